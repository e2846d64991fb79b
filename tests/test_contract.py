"""End to end through the command line: an independent data set in the forms clerks send
(bare-array GeoJSON, GBK and UTF-8-BOM CSV with Chinese headers, XLSX), imported with
``gridmap import``, gives exactly the metrics computed by hand from the contract."""

import hashlib
import json

import openpyxl
import pytest

from geo.cli import main

AS_OF = "2026-11-27"


def _square(x0, y0, d=0.01):
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]],
    }


@pytest.fixture
def files(tmp_path):
    """The data set's files (as-of day 2026-11-27); expectations worked out in the tests."""
    grids = [
        {
            "type": "Feature",
            "properties": {
                "网格编号": "G1",
                "网格名称": "第一网格",
                "社区": "东河社区",
                "网格党支部": "第一党支部",
            },
            "geometry": _square(111.70, 40.84),
        },
        {
            "type": "Feature",
            "properties": {
                "网格编号": "G2",
                "网格名称": "第二网格",
                "社区": "东河社区",
                "网格党支部": "",
            },
            "geometry": _square(111.71, 40.84),
        },
        {
            "type": "Feature",
            "properties": {
                "网格编号": "G3",
                "网格名称": "第三网格",
                "社区": "北垣社区",
                "网格党支部": "第三党支部",
            },
            "geometry": _square(111.70, 40.85),
        },
    ]
    (tmp_path / "grids.json").write_text(json.dumps(grids, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "households.csv").write_text(
        "户编号,经度,纬度,类别,户主姓名,电话,核实日期\n"
        "H1,111.705,40.845,红,张三,13812341234,2026-11-20\n"
        "H2,111.71,40.845,黄、粉,李四,13912345678,2026/10/29\n"  # on the G1/G2 edge: goes to G1
        "H3,111.715,40.845,蓝,王五,,2026-10-28\n"
        "H4,111.705,40.855,,赵六,,2026-11-28\n"  # verified after the as-of day: not fresh
        "H5,111.80,40.90,紫,钱七,,\n",  # outside every grid
        encoding="gbk",
    )
    visits = ["户编号,走访时间"]
    visits += [f"H1,2026-11-{d} 09:00" for d in range(21, 27)] + [
        "H1,2026-11-27 23:59:59",
        "H1,2026-11-28 00:00:00",
    ]
    visits += [
        "H2,2026/11/21 10:00",
        "H2,2026/11/21 15:00",
        "H2,2026-11-25T09:00:00",
    ]  # 2 distinct days
    visits += ["H3,2026-10-28 16:00", "H5,2026-10-29 08:00"]
    (tmp_path / "visits.csv").write_text("\n".join(visits) + "\n", encoding="utf-8-sig")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["人员编号", "姓名", "角色", "网格编号"])
    for row in (
        ["S1", "张伟", "网格员", "G1"],
        ["S1", "张伟", "网格员", "G3"],
        ["S2", "李强", "民警", "G1"],
        ["S3", "王敏", "网格长", "G2"],
    ):
        sheet.append(row)
    book.save(tmp_path / "staff.xlsx")
    (tmp_path / "reports.csv").write_text(
        "编号,来源,事项类别,经度,纬度,上报时间,响应时间,办结时间,回访时间,满意度\n"
        "R1,随手拍,环境卫生,111.705,40.845,2026-11-20 08:00,2026-11-20 09:00,2026-11-21 10:00,2026-11-22 10:00,满意\n"
        "R2,12345,噪音扰民,111.715,40.845,2026-11-22 00:00:00,,,,\n"  # 144 h open: overdue
        "R3,矛盾纠纷,邻里纠纷,111.705,40.855,2026-11-23 00:00:00,2026-11-23 08:00,,,\n"  # exactly 120 h: not overdue
        "R4,信访,物业纠纷,111.705,40.845,2026-11-22 23:59:59,2026-11-24 08:00,2026-11-28 09:00,,\n"  # resolved too late
        "R5,网格巡查,设施损坏,111.715,40.845,2026-11-10 08:00,2026-11-10 09:00,2026-11-12 10:00,2026-11-26 10:00,不满意\n"
        "R6,随手拍,环境卫生,111.705,40.845,2026-11-28 08:00,,,,\n",  # after the as-of day
        encoding="gbk",
    )
    return tmp_path


def _import_all(files, db):
    for kind, name in [
        ("grids", "grids.json"),
        ("households", "households.csv"),
        ("visits", "visits.csv"),
        ("staff", "staff.xlsx"),
        ("reports", "reports.csv"),
    ]:
        assert main(["import", kind, str(files / name), "--db", db]) == 0, kind


def test_metrics_match_the_contract_by_hand(files, capsys):
    db = str(files / "store.gpkg")
    _import_all(files, db)
    capsys.readouterr()
    assert main(["metrics", "--db", db, "--as-of", AS_OF, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    cases = got.pop("cases")  # issue 19's section, beside the contract's: checked below
    assert got == {
        "as_of": AS_OF,
        "households": {
            "total": 5,
            "unassigned": 1,
            "by_category": {
                "red": 1,
                "yellow": 1,
                "orange": 0,
                "green": 0,
                "pink": 1,
                "blue": 1,
                "purple": 1,
            },
        },
        "visits": {
            "by_category": {
                "red": {"required": 1, "compliant": 1, "rate": 1.0},
                "yellow": {"required": 1, "compliant": 0, "rate": 0.0},
                "orange": {"required": 0, "compliant": 0, "rate": None},
                "green": {"required": 0, "compliant": 0, "rate": None},
                "pink": {"required": 1, "compliant": 1, "rate": 1.0},
                "blue": {"required": 1, "compliant": 0, "rate": 0.0},
                "purple": {"required": 1, "compliant": 1, "rate": 1.0},
            },
            "overall": {"required": 4, "compliant": 2, "rate": 0.5},
        },
        "freshness": {"verified_within_30_days": 2, "rate": 0.4},
        "grids": {
            "total": 3,
            "with_party_branch": 2,
            "with_grid_worker": 2,
            "mean_staff_per_grid": 1.33,
        },
        "reports": {
            "total": 5,
            "responded": 4,
            "resolved": 2,
            "followed_up": 2,
            "response_rate": 0.8,
            "completion_rate": 0.4,
            "satisfaction_rate": 0.5,
            "followup_rate": 1.0,
            "overdue": 2,
        },
        # no new-employment data: section 7's figures are zero, its rate null
        "new_employment": {
            **dict.fromkeys(
                ["firms", "firms_with_party_org", "outlets", "outlets_with_party_org"], 0
            ),
            **dict.fromkeys(["outlets_near_station", "workers", "party_members"], 0),
            **dict.fromkeys(["party_members_returned", "party_members_mobile", "insured"], 0),
            "insured_rate": None,
            **dict.fromkeys(["observers", "observers_registered", "observer_reports_30d"], 0),
            "stations": 0,
        },
    }
    assert list(got) == [
        *("as_of", "households", "visits", "freshness", "grids", "reports"),
        "new_employment",
    ]  # "cases" (issue 19) was taken out above; it stands between them
    # the imported reports were dispatched on import; no extension: the same overdue
    assert cases["overdue"] == got["reports"]["overdue"]
    assert cases["owned"] + cases["unowned"] == got["reports"]["total"]
    assert cases["followup_rate"] == got["reports"]["followup_rate"]
    assert cases["transfers"] == cases["extensions"] == cases["closed"] == 0


def test_metrics_by_grid(files, capsys):
    db = str(files / "store.gpkg")
    _import_all(files, db)
    capsys.readouterr()
    assert main(["metrics", "--db", db, "--as-of", AS_OF, "--by", "grid", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    by_id = {g["grid_id"]: g for g in got["grids"]}
    assert sorted(by_id) == ["G1", "G2", "G3"]
    g1 = by_id["G1"]
    assert g1["households"]["total"] == 2  # H1 and H2 (on the shared edge)
    assert g1["visits"]["overall"] == {"required": 2, "compliant": 1, "rate": 0.5}
    assert g1["reports"]["total"] == 2 and g1["reports"]["overdue"] == 1  # R1, R4
    assert "grids" not in g1
    assert by_id["G2"]["reports"]["overdue"] == 1  # R2


def test_a_bad_file_is_refused_whole_and_changes_nothing(files, capsys):
    db = str(files / "store.gpkg")
    _import_all(files, db)
    before = hashlib.sha256((files / "store.gpkg").read_bytes()).hexdigest()
    (files / "bad.csv").write_text(
        "户编号,经度,纬度,类别\nH9,111.705,40.845,红\nH10,abc,40.845,红\nH11,111.705,40.845,彩\nH9,111.7,40.8,\n",
        encoding="gbk",
    )
    capsys.readouterr()
    assert main(["import", "households", str(files / "bad.csv"), "--db", db]) != 0
    err = capsys.readouterr().err
    assert "bad.csv:3: 经度" in err or "bad.csv:3: lon" in err
    assert "bad.csv:4:" in err and "bad.csv:5:" in err
    assert hashlib.sha256((files / "store.gpkg").read_bytes()).hexdigest() == before
