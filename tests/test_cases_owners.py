"""Auto-dispatch: the owner proposed from a report's source, category and grid."""

import pandas as pd
import pytest

from geo.cases.owners import Owner, department_unit, owner_choices, propose_owner, propose_owners
from geo.cases.settings import case_settings


@pytest.fixture
def grids() -> pd.DataFrame:
    """G1, G2 in 东河社区; G3 in 北垣社区 (no grid worker there)."""
    return pd.DataFrame(
        {"grid_id": ["G1", "G2", "G3"], "community": ["东河社区", "东河社区", "北垣社区"]}
    )


@pytest.fixture
def staff() -> pd.DataFrame:
    """S1 works G1 only; S2 works G1 and G2; S3 leads G2 and G3; S9 is the 城管 unit."""
    rows = [
        ("S1", "grid_worker", "G1", "东河社区居委会"),
        ("S2", "grid_worker", "G1", "东河社区居委会"),
        ("S2", "grid_worker", "G2", "东河社区居委会"),
        ("S3", "grid_leader", "G2", "东河社区党委"),
        ("S3", "grid_leader", "G3", "东河社区党委"),
        ("S9", "urban_management", "G1", "综合执法一中队"),
        ("S8", "urban_management", "G3", "综合执法二中队"),
        ("S7", "volunteer", "G3", "志愿服务队"),
    ]
    return pd.DataFrame(rows, columns=["staff_id", "role", "grid_id", "department"])


REPORTS = [
    # report_id, source, category, grid_id -> expected owner key
    ("R1", "hotline", "环境卫生", "G1", "staff:S1"),  # G1's own worker, not S2 who helps out
    ("R2", "observer", "占道经营", "G1", "department:urban_management"),
    ("R3", "dispute", "邻里纠纷", "G2", "mediation:东河社区"),
    ("R4", "patrol", "设施损坏", "G2", "staff:S2"),  # the only grid worker of G2
    ("R5", "hotline", "环境卫生", "G3", "staff:S3"),  # no worker: the grid leader
    ("R6", "hotline", "环境卫生", None, None),  # outside every grid: the desk dispatches
    ("R7", "dispute", "物业纠纷", None, None),
    ("R8", "dispute", "物业纠纷", "G3", "mediation:北垣社区"),  # a dispute goes to mediation first
    ("R9", "hotline", " 安全隐患 ", "G3", "department:police"),  # category trimmed
]


def test_proposed_owners(grids, staff):
    reports = pd.DataFrame(
        [r[:4] for r in REPORTS], columns=["report_id", "source", "category", "grid_id"]
    )
    proposed = propose_owners(reports, grids, staff, case_settings())
    keys = [
        None if kind is None else f"{kind}:{ident}"
        for kind, ident in zip(proposed["owner_kind"], proposed["owner_id"], strict=True)
    ]
    assert proposed["report_id"].tolist() == [r[0] for r in REPORTS]
    assert keys == [r[4] for r in REPORTS]


def test_one_report_proposal_matches_the_frame(grids, staff):
    owner = propose_owner(
        {"source": "hotline", "category": "环境卫生", "grid_id": "G1"},
        grids,
        staff,
        case_settings(),
    )
    assert owner == Owner("staff", "S1")
    assert (
        propose_owner(
            {"source": "hotline", "category": "x", "grid_id": None}, grids, staff, case_settings()
        )
        is None
    )


def test_grid_with_nobody_gets_no_owner(grids):
    empty = pd.DataFrame(columns=["staff_id", "role", "grid_id", "department"])
    owner = propose_owner(
        {"source": "hotline", "category": "环境卫生", "grid_id": "G1"},
        grids,
        empty,
        case_settings(),
    )
    assert owner is None


@pytest.mark.parametrize(
    ("key", "owner"),
    [
        ("staff:S00012", Owner("staff", "S00012")),
        ("department:urban_management", Owner("department", "urban_management")),
        ("mediation:东河社区", Owner("mediation", "东河社区")),
    ],
)
def test_owner_key_round_trip(key, owner):
    assert Owner.parse(key) == owner and owner.key == key


@pytest.mark.parametrize("bad", ["S00012", "boss:S1", "staff:", ":S1"])
def test_bad_owner_key_refused(bad):
    with pytest.raises(ValueError):
        Owner.parse(bad)


def test_owner_of_empty_columns_is_none():
    assert Owner.of(None, "S1") is None and Owner.of("staff", float("nan")) is None


def test_owner_choices_put_the_grid_first(grids, staff):
    choices = [o.key for o in owner_choices("G2", grids, staff, case_settings())]
    # G2's own worker, its leader; the community's other people; departments; the room
    assert choices == [
        "staff:S2",
        "staff:S3",
        "staff:S1",
        "department:urban_management",
        "mediation:东河社区",
    ]


def test_department_unit_is_the_one_covering_the_grid(staff):
    assert department_unit("urban_management", "G3", staff) == "综合执法二中队"
    assert department_unit("urban_management", "G2", staff) == "综合执法二中队"  # S8 < S9
    assert department_unit("police", "G1", staff) is None
