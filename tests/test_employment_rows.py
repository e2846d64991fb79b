"""The row rules of contract section 7: every refusal and warning, through the importer's checker."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from employment_support import cells, checker, problems

from geo import i18n
from geo.employment import rows
from geo.employment.columns import ALIASES, KEYS, KINDS, REQUIRED

FIRMS = pd.Index(["F1", "F2"], dtype=object)
OUTLET_FIRMS = {"O1": "F1", "O2": "F2"}


def listed(series: pd.Series) -> list[object]:
    """A column's values with missing as None (pandas 3 infers strings: missing is NaN)."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def run(kind: str, data: list[dict[str, object]], lang: str = "en"):
    """(problem lines, warnings, stored frame) of checking ``data`` as a ``kind`` chunk."""
    check = checker(kind, len(data), lang)
    extra = {}
    if kind in ("outlets", "workers"):
        extra["firms"] = FIRMS
    if kind == "workers":
        extra["outlet_firms"] = OUTLET_FIRMS
    frame = rows.CHECKS[kind](cells(data), check, **extra)
    check.finish()
    return problems(check), check.report.warnings, frame


# --- column specs ----------------------------------------------------------------------


def test_every_kind_has_specs():
    assert set(ALIASES) == set(REQUIRED) == set(KEYS) == set(KINDS) == set(rows.CHECKS)
    for kind in KINDS:
        assert set(REQUIRED[kind]) <= set(ALIASES[kind])
        assert set(KEYS[kind]) <= set(REQUIRED[kind])


@pytest.mark.parametrize(
    ("kind", "zh", "canonical"),
    [
        ("firms", "企业编号", "firm_id"),
        ("firms", "企业名称", "name"),
        ("firms", "行业", "sector"),
        ("firms", "党组织", "party_org"),
        ("firms", "工会", "union"),
        ("outlets", "网点编号", "outlet_id"),
        ("outlets", "企业编号", "firm_id"),
        ("outlets", "经度", "lon"),
        ("outlets", "纬度", "lat"),
        ("outlets", "网点名称", "name"),
        ("outlets", "地址", "address"),
        ("outlets", "党组织", "party_org"),
        ("workers", "人员编号", "worker_id"),
        ("workers", "企业编号", "firm_id"),
        ("workers", "姓名", "name"),
        ("workers", "网点编号", "outlet_id"),
        ("workers", "电话", "phone"),
        ("workers", "身份证号", "id_number"),
        ("workers", "政治面貌", "party"),
        ("workers", "组织关系", "party_relation"),
        ("workers", "回归日期", "returned_on"),
        ("workers", "职业伤害保障", "insured"),
        ("workers", "参保日期", "insured_on"),
        ("workers", "社区观察员", "observer"),
        ("workers", "报到日期", "registered_on"),
        ("workers", "报到社区", "community"),
        ("stations", "驿站编号", "station_id"),
        ("stations", "驿站名称", "name"),
        ("stations", "经度", "lon"),
        ("stations", "纬度", "lat"),
        ("stations", "服务项目", "services"),
        ("stations", "依托单位", "host"),
        ("stations", "建成日期", "opened_on"),
    ],
)
def test_contract_aliases(kind, zh, canonical):
    assert zh in ALIASES[kind][canonical]


def test_no_alias_means_two_columns():
    for kind, columns in ALIASES.items():
        spellings = [s.lower() for c, aliases in columns.items() for s in (c, *aliases)]
        assert len(spellings) == len(set(spellings)), kind


# --- firms -----------------------------------------------------------------------------


def test_firms_good_rows_are_stored_with_codes():
    found, warnings, frame = run(
        "firms",
        [
            {"firm_id": "F1", "name": "顺丰速运", "sector": "快递", "party_org": "顺丰党支部"},
            {"firm_id": "F2", "name": "美团外卖", "sector": "food_delivery", "union": "美团工会"},
            {"firm_id": "F3", "name": "滴滴出行", "sector": "Ride-Hailing"},
            {"firm_id": "F4", "name": "货拉拉", "sector": "货运"},
            {"firm_id": "F5", "name": "某公司", "sector": "其它"},
        ],
    )
    assert found == [] and warnings == []
    assert listed(frame["sector"]) == [
        "express",
        "food_delivery",
        "ride_hailing",
        "freight",
        "other",
    ]
    assert listed(frame["party_org"]) == ["顺丰党支部", None, None, None, None]
    assert listed(frame["union"]) == [None, "美团工会", None, None, None]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"firm_id": "F1", "name": "顺丰", "sector": "物流"},
            "firms.csv:2: sector: unknown sector '物流'",
        ),
        ({"firm_id": "F1", "name": "顺丰", "sector": None}, "firms.csv:2: sector: value missing"),
        (
            {"firm_id": None, "name": "顺丰", "sector": "快递"},
            "firms.csv:2: firm_id: value missing",
        ),
        ({"firm_id": "F1", "name": None, "sector": "快递"}, "firms.csv:2: name: value missing"),
    ],
)
def test_firms_refusals(row, expected):
    found, _, _ = run("firms", [row])
    assert len(found) == 1 and found[0].startswith(expected)


def test_unknown_sector_lists_what_is_accepted():
    found, _, _ = run("firms", [{"firm_id": "F1", "name": "x", "sector": "物流"}])
    assert "express 快递" in found[0] and "other 其他" in found[0]


# --- outlets ---------------------------------------------------------------------------


def test_outlets_name_a_known_firm():
    found, _, frame = run(
        "outlets",
        [
            {"outlet_id": "O1", "firm_id": "F1", "name": "东河营业部", "party_org": "支部"},
            {"outlet_id": "O2", "firm_id": "F9"},
            {"outlet_id": "O3", "firm_id": None},
        ],
    )
    assert sorted(found) == [
        "outlets.csv:3: firm_id: unknown firm 'F9' (not in the store: import firms first)",
        "outlets.csv:4: firm_id: value missing",
    ]
    assert listed(frame["outlet_id"]) == ["O1", "O2", "O3"]
    assert set(frame.columns) == {"outlet_id", "firm_id", "name", "party_org"}


# --- workers ---------------------------------------------------------------------------

GOOD_WORKER = {"worker_id": "W1", "firm_id": "F1", "name": "张三"}


def worker(**values: object) -> dict[str, object]:
    return {**GOOD_WORKER, **values}


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (worker(firm_id="F9"), "firm_id", "unknown firm 'F9'"),
        (worker(outlet_id="O9"), "outlet_id", "unknown outlet 'O9'"),
        (
            worker(outlet_id="O2"),
            "outlet_id",
            "outlet 'O2' belongs to firm 'F2', not to this row's firm 'F1'",
        ),
        (worker(party="团员"), "party", "unknown party '团员'"),
        (
            worker(party="中共党员", party_relation="转走"),
            "party_relation",
            "unknown party relation '转走'",
        ),
        (
            worker(party="群众", party_relation="流动"),
            "party_relation",
            "this row's party is '群众'",
        ),
        (worker(party_relation="mobile"), "party_relation", "for party members"),
        (
            worker(party=None, party_relation="local"),
            "party_relation",
            "this row's party is empty (none)",
        ),
        (
            worker(party="none", returned_on="2026-11-01"),
            "returned_on",
            "returned_on is for party members",
        ),
        (worker(returned_on="2026-11-01"), "returned_on", "returned_on is for party members"),
        (worker(insured="maybe"), "insured", "not a yes/no: 'maybe'"),
        (worker(insured="有"), "insured", "not a yes/no: '有'"),
        (worker(observer="2"), "observer", "not a yes/no: '2'"),
        (
            worker(observer="否", registered_on="2026-11-01"),
            "registered_on",
            "this row's observer is '否'",
        ),
        (
            worker(registered_on="2026-11-01"),
            "registered_on",
            "registered_on is for observers only",
        ),
        (
            worker(observer=None, registered_on="2026-11-01"),
            "registered_on",
            "observer is empty (no)",
        ),
        (worker(name=None), "name", "value missing"),
        (worker(worker_id=None), "worker_id", "value missing"),
    ],
)
def test_worker_refusals(row, column, fragment):
    found, _, _ = run("workers", [worker(), row])  # the good first row is line 2
    assert len(found) == 1, found
    assert found[0].startswith(f"workers.csv:3: {column}: ")
    assert fragment in found[0]


def test_unknown_firm_is_not_also_an_outlet_of_another_firm():
    found, _, _ = run("workers", [worker(firm_id="F9", outlet_id="O1")])
    assert found == [
        "workers.csv:2: firm_id: unknown firm 'F9' (not in the store: import firms first)"
    ]


def test_a_bad_yes_no_with_a_date_is_refused_once():
    found, _, _ = run("workers", [worker(observer="maybe", registered_on="2026-11-01")])
    assert len(found) == 1 and "observer: not a yes/no" in found[0]


@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        ("是", 1),
        ("否", 0),
        ("yes", 1),
        ("No", 0),
        ("TRUE", 1),
        ("false", 0),
        ("1", 1),
        ("0", 0),
        ("Y", 1),
        ("n", 0),
        ("", 0),
        ("１", 1),
        (" 是 ", 1),
    ],
)
def test_yes_no_spellings(spelling, stored):
    found, _, frame = run(
        "workers", [worker(insured=spelling.strip() or None, observer=spelling.strip() or None)]
    )
    assert found == []
    assert listed(frame["insured"]) == [stored] and listed(frame["observer"]) == [stored]


def test_workers_stored_columns():
    found, warnings, frame = run(
        "workers",
        [
            worker(
                outlet_id="O1",
                phone="13800001234",
                id_number="150102199001011234",
                party="中共党员",
                party_relation="流动",
                returned_on="2026-10-01",
                insured="是",
                insured_on="2026-01-01",
                observer="1",
                registered_on="2026-09-01",
                community="东河社区",
            ),
            {
                "worker_id": "W2",
                "firm_id": "F2",
                "name": "李四",
                "party": "预备党员",
                "party_relation": "已转入",
            },
            {"worker_id": "W3", "firm_id": "F2", "name": "王五", "party": None, "outlet_id": "O2"},
            {"worker_id": "W4", "firm_id": "F2", "name": "赵六", "party": "群众"},
        ],
    )
    assert found == [] and warnings == []
    assert listed(frame["party"]) == ["member", "probationary", "none", "none"]
    assert listed(frame["party_relation"]) == ["mobile", "local", None, None]
    assert listed(frame["insured"]) == [1, 0, 0, 0]
    assert listed(frame["observer"]) == [1, 0, 0, 0]
    assert listed(frame["outlet_id"]) == ["O1", None, "O2", None]
    assert frame.loc[0, "returned_on"] == "2026-10-01"
    assert frame.loc[0, "community"] == "东河社区"


def test_columns_a_file_lacks_are_not_stored():
    """An upsert leaves what the file does not hold as it was."""
    _, _, frame = run("workers", [worker()])
    assert list(frame.columns) == ["worker_id", "firm_id", "name"]


def test_insured_on_without_insured_is_a_warning_not_a_refusal():
    found, warnings, _ = run(
        "workers",
        [
            worker(worker_id="W1", insured="否", insured_on="2026-01-01"),
            worker(worker_id="W2", insured="是", insured_on="2026-01-01"),
            {**GOOD_WORKER, "worker_id": "W3", "insured_on": "2026-02-01"},
        ],
    )
    assert found == []
    assert warnings == [
        "workers.csv: 2 workers have insured_on but insured is not yes (not counted as insured): W1, W3"
    ]


def test_every_row_problem_is_found_not_only_the_first():
    found, _, _ = run(
        "workers",
        [
            worker(firm_id="F9"),
            worker(party="x"),
            worker(observer="x"),
            worker(party="群众", returned_on="2026-01-01"),
        ],
    )
    assert sorted(re.match(r"workers\.csv:(\d+): (\w+):", p).groups() for p in found) == [
        ("2", "firm_id"),
        ("3", "party"),
        ("4", "observer"),
        ("5", "returned_on"),
    ]


# --- stations --------------------------------------------------------------------------


def test_station_services_in_every_spelling():
    found, _, frame = run(
        "stations",
        [
            {
                "station_id": "S1",
                "name": "东河红蜂驿站",
                "services": "休息、饮水；充电,热饭|卫生间/药箱、维权",
            },
            {
                "station_id": "S2",
                "name": "北垣驿站",
                "services": "rest; hot meal; First Aid; rights_help",
            },
            {
                "station_id": "S3",
                "name": "新华驿站",
                "services": None,
                "host": "新华社区",
                "opened_on": "2026-12-01",
            },
        ],
    )
    assert found == []
    assert listed(frame["services"]) == [
        "rest;water;charging;hot_meal;toilet;first_aid;rights_help",
        "rest;hot_meal;first_aid;rights_help",
        None,
    ]
    assert listed(frame["opened_on"]) == [None, None, "2026-12-01"]


def test_unknown_service_is_refused():
    found, _, _ = run("stations", [{"station_id": "S1", "name": "x", "services": "休息、洗澡"}])
    assert found[0].startswith("stations.csv:2: services: unknown service '洗澡'")
    assert "rest 休息" in found[0]


def test_stations_required_values():
    found, _, _ = run("stations", [{"station_id": None, "name": None}])
    assert found == [
        "stations.csv:2: station_id: value missing",
        "stations.csv:2: name: value missing",
    ]


# --- messages --------------------------------------------------------------------------


def test_refusals_are_in_chinese_by_default():
    found, _, _ = run("workers", [worker(party="群众", party_relation="流动")], lang="zh-CN")
    assert found == [
        "workers.csv:2: party_relation: 组织关系只填党员（中共党员、预备党员）；本行政治面貌为 '群众'"
    ]


def test_every_key_the_rules_use_has_both_languages():
    catalogue = i18n.catalogue()
    source = Path(rows.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(imp_[a-z_]+)"', source)) | {
        f"imp_what_{name}" for name in ("sector", "party", "party_relation")
    }
    for key in keys:
        assert set(catalogue[key]) == {"zh-CN", "en"}, key
