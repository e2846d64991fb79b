import datetime as dt
import json
import re

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from shapely.geometry import Point, box

from geo.access.audit import read_audit
from geo.cli import main
from geo.metrics.contract import compute_metrics
from geo.outputs.weekly import figures
from geo.outputs.weekly import font as weekly_font
from geo.outputs.weekly import xlsx as weekly_xlsx
from geo.outputs.weekly.figures import (
    Figure,
    attention_grids,
    attention_reasons,
    figure_texts,
    weekly_figures,
)
from geo.outputs.weekly.font import FontMissing, cjk_font
from geo.outputs.weekly.pack import write_weekly
from geo.outputs.weekly.xlsx import weekly_sheets
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)


def _day(offset: int, time: str = "09:00:00") -> str:
    return f"{AS_OF + dt.timedelta(days=offset):%Y-%m-%d} {time}"


@pytest.fixture(scope="module")
def street_store(tmp_path_factory):
    """Three grids of 新华街道 (G3 without worker or branch), 9 households, visits, staff, 8 reports.

    Module-scoped: the weekly pack only reads the store.
    """
    store = open_store(str(tmp_path_factory.mktemp("weekly") / "weekly.gpkg"))
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "name": ["东一网格", "东二网格", "西一网格"],
            "community": ["东风社区", "东风社区", "西园社区"],
            "street": ["新华街道"] * 3,
            "party_branch": ["东一网格党支部", "东二网格党支部", None],
        },
        geometry=[
            box(111.60, 40.80, 111.61, 40.81),
            box(111.61, 40.80, 111.62, 40.81),
            box(111.60, 40.81, 111.62, 40.82),
        ],
        crs=WGS84,
    )
    hh = [
        # id, grid, categories, lon, lat, last_verified
        ("H1", "G1", "red", 111.601, 40.801, _day(-3)[:10]),
        ("H2", "G1", "pink", 111.602, 40.802, _day(-40)[:10]),
        ("H3", "G1", "yellow", 111.603, 40.803, _day(-1)[:10]),
        ("H4", "G2", "pink", 111.611, 40.801, _day(-2)[:10]),
        ("H5", "G2", "orange;pink", 111.612, 40.802, None),
        ("H6", "G2", None, 111.613, 40.803, _day(-5)[:10]),
        ("H7", "G3", "blue", 111.605, 40.815, _day(-60)[:10]),
        ("H8", "G3", "purple", 111.606, 40.816, _day(-10)[:10]),
        ("H9", "G3", None, 111.607, 40.817, _day(0)[:10]),
    ]
    households = gpd.GeoDataFrame(
        {
            "household_id": [h[0] for h in hh],
            "grid_id": [h[1] for h in hh],
            "categories": [h[2] for h in hh],
            "head_name": ["张三丰"] * len(hh),
            "phone": ["13812345678"] * len(hh),
            "id_number": ["150102194501011234"] * len(hh),
            "address": [f"东风路{i}号" for i in range(len(hh))],
            "last_verified": [h[5] for h in hh],
        },
        geometry=[Point(h[3], h[4]) for h in hh],
        crs=WGS84,
    )
    visits = [("H1", _day(-d)) for d in range(0, 7)]  # red: every day -> compliant
    visits += [("H3", _day(-1)), ("H3", _day(-3))]  # yellow: 2 of 3 days -> not compliant
    visits += [
        ("H2", _day(-10)),
        ("H4", _day(-31)),
        ("H5", _day(-2)),
        ("H7", _day(-12)),
        ("H8", _day(-20)),
    ]
    visits += [("H1", _day(-9)), ("H4", _day(-35))]
    visit_frame = pd.DataFrame(
        {
            "visit_id": [f"V{i}" for i in range(len(visits))],
            "household_id": [v[0] for v in visits],
            "visited_at": [v[1] for v in visits],
            "staff_id": "S1",
            "kind": "入户",
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4"],
            "name": ["王小明", "李红", "赵警官", "刘书记"],
            "role": ["grid_worker", "grid_worker", "police", "party_secretary"],
            "grid_id": ["G1", "G2", "G1", "G1"],
            "phone": ["13900000001"] * 4,
        }
    )
    # reports: G1 has 2 overdue, this week 3 new (1 resolved this week), last week 4 new
    reps = [
        ("R1", "G1", _day(-20), _day(-20, "10:00:00"), _day(-18), _day(-16), "satisfied"),
        ("R2", "G1", _day(-12), None, None, None, None),  # overdue
        ("R3", "G1", _day(-9), _day(-9, "12:00:00"), None, None, None),  # overdue
        ("R4", "G2", _day(-8), _day(-8, "12:00:00"), _day(-6), _day(-5), "unsatisfied"),
        ("R5", "G2", _day(-10), _day(-10, "12:00:00"), _day(-9), None, "satisfied"),
        ("R6", "G2", _day(-2), _day(-2, "10:00:00"), _day(-1), None, "satisfied"),
        ("R7", "G3", _day(-1), None, None, None, None),
        ("R8", "G3", _day(0, "08:00:00"), None, None, None, None),
    ]
    reports = gpd.GeoDataFrame(
        {
            "report_id": [r[0] for r in reps],
            "source": "hotline",
            "category": "环境卫生",
            "grid_id": [r[1] for r in reps],
            "reported_at": [r[2] for r in reps],
            "responded_at": [r[3] for r in reps],
            "resolved_at": [r[4] for r in reps],
            "followed_up_at": [r[5] for r in reps],
            "satisfaction": [r[6] for r in reps],
            "reporter_id": "150102199001011234",
        },
        geometry=[Point(111.605, 40.805)] * len(reps),
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("households", households)
        tx.upsert("visits", visit_frame)
        tx.upsert("staff", staff)
        tx.upsert("reports", reports)
    return store


def _compact(text: str) -> str:
    # pypdf decodes fpdf2's CID text with NULs or spaces between characters (pdftotext does not)
    return re.sub(r"[\s\x00]+", "", text)


def test_weekly_numbers_equal_compute_metrics_for_the_same_days(street_store):
    figures = weekly_figures(street_store, AS_OF)
    now = compute_metrics(street_store, AS_OF)
    before = compute_metrics(street_store, AS_OF - dt.timedelta(days=7))
    two_before = compute_metrics(street_store, AS_OF - dt.timedelta(days=14))
    fig = {f.key: f for f in figures["headline"]}
    assert figures["metrics"] == now
    assert (fig["visit_overall"].value, fig["visit_overall"].previous) == (
        now["visits"]["overall"]["rate"],
        before["visits"]["overall"]["rate"],
    )
    assert fig["freshness"].value == now["freshness"]["rate"]
    for code, section in now["visits"]["by_category"].items():
        assert fig[f"visit_{code}"].value == section["rate"]
        assert fig[f"visit_{code}"].base == section["required"]
    for rate in ("response_rate", "completion_rate", "satisfaction_rate", "followup_rate"):
        assert (fig[rate].value, fig[rate].previous) == (
            now["reports"][rate],
            before["reports"][rate],
        )
    assert fig["reports_new"].value == now["reports"]["total"] - before["reports"]["total"] == 3
    assert (
        fig["reports_new"].previous
        == before["reports"]["total"] - two_before["reports"]["total"]
        == 4
    )
    assert (
        fig["reports_resolved"].value == now["reports"]["resolved"] - before["reports"]["resolved"]
    )
    assert fig["reports_overdue"].value == now["reports"]["overdue"] == 2


def test_weekly_numbers_equal_the_gridmap_metrics_command(street_store, capsys):
    main(["metrics", "--db", street_store.location, "--as-of", "2026-11-27", "--json"])
    printed = json.loads(capsys.readouterr().out)
    figures = weekly_figures(street_store, AS_OF)
    assert figures["metrics"] == printed
    last = figures["trend"].iloc[-1]
    assert last["week_end"] == printed["as_of"]
    assert last["visit_rate"] == printed["visits"]["overall"]["rate"]
    assert last["completion_rate"] == printed["reports"]["completion_rate"]
    assert last["reports_overdue"] == printed["reports"]["overdue"]


def test_the_weekly_command_audits_its_export(street_store, tmp_path, capsys):
    out = tmp_path / "pack.xlsx"
    main(["weekly", "--db", street_store.location, "--as-of", "2026-11-27", "--out", str(out)])
    assert out.exists()
    events = read_audit(street_store, action="export")
    assert events["detail"].iloc[-1] == f"weekly 2026-11-27 xlsx {out}"
    assert events["actor"].iloc[-1] == "cli"


def test_trend_has_eight_consecutive_week_ends(street_store):
    trend = weekly_figures(street_store, AS_OF)["trend"]
    assert trend["week_end"].tolist() == [
        f"{AS_OF - dt.timedelta(days=7 * k):%Y-%m-%d}" for k in range(7, -1, -1)
    ]
    assert trend["reports_new"].sum() == 8  # every report falls in one of the eight weeks


@pytest.mark.parametrize(
    ("figure", "value_text", "change_text"),
    [
        (Figure("reports_new", "count", 2, 7, None, None), "<3", ""),  # change would reveal the 2
        (Figure("reports_new", "count", 7, 1, None, None), "7", ""),
        (Figure("reports_resolved", "count", 0, 5, None, None), "0", "▼5"),
        (Figure("reports_resolved", "count", 9, 5, None, None), "9", "▲4"),
        (
            Figure("reports_overdue", "count", 4, 4, None, None, higher_is_better=False),
            "4",
            "与上周持平",
        ),
        (Figure("visit_overall", "rate", 0.5, 1.0, 2, 2), "n<3", ""),
        (Figure("visit_overall", "rate", 0.8, 0.75, 10, 2), "80.0%", ""),
        (Figure("visit_overall", "rate", 0.8, 0.75, 10, 8), "80.0%", "▲5.0个百分点"),
        (Figure("visit_overall", "rate", None, 0.75, 0, 8), "—", ""),
    ],
)
def test_figure_texts_suppress_small_counts_and_small_bases(figure, value_text, change_text):
    value, change, _ = figure_texts(figure, "zh-CN")
    assert (value, change) == (value_text, change_text)


@pytest.mark.parametrize(
    ("figure", "colour"),
    [
        (Figure("reports_overdue", "count", 9, 5, None, None, higher_is_better=False), figures.BAD),
        (
            Figure("reports_overdue", "count", 4, 5, None, None, higher_is_better=False),
            figures.GOOD,
        ),
        (Figure("reports_new", "count", 9, 5, None, None, higher_is_better=None), figures.NEUTRAL),
        (Figure("freshness", "rate", 0.5, 0.6, 10, 10), figures.BAD),
    ],
)
def test_change_colour_follows_what_is_good_news(figure, colour):
    assert figure_texts(figure)[2] == colour


def test_attention_score_is_the_documented_sum_and_ranks_grids():
    grids = pd.DataFrame(
        {
            "grid_id": ["A", "B", "C", "D"],
            "name": ["甲", "乙", "丙", "丁"],
            "community": ["c"] * 4,
            "has_party_branch": [True, True, False, True],
            "grid_workers": [1, 1, 0, 2],
            "reports_overdue": [3, 0, 0, 0],
            "visit_rate": [0.5, 1.0, None, 1.0],
            "visit_required": [10, 10, 0, 10],
            "freshness_rate": [1.0, 0.9, 0.0, 1.0],
            "households": [20, 20, 20, 20],
        }
    )
    top = attention_grids(grids)
    # A: 2*3 + 10*0.5 = 11; C: 5*1 + 5 + 3 = 13; B: 5*0.1 = 0.5; D: 0 -> left out
    assert top[["grid_id", "score", "rank"]].values.tolist() == [
        ["C", 13.0, 1],
        ["A", 11.0, 2],
        ["B", 0.5, 3],
    ]
    assert attention_reasons(top.iloc[1]) == ["超期未办结事项 3 件", "走访达标率仅 50.0%"]
    assert attention_reasons(top.iloc[0]) == ["信息更新率仅 0.0%", "未配备网格员", "未建网格党支部"]


def test_attention_reasons_suppress_small_counts(street_store):
    figures = weekly_figures(street_store, AS_OF)
    top = figures["attention"]
    assert top["grid_id"].tolist()[:1] == ["G3"]  # no worker, no branch, stale
    g1 = top[top["grid_id"] == "G1"].iloc[0]
    assert "超期未办结事项 <3 件" in attention_reasons(g1)


def test_pdf_holds_the_chinese_title_and_the_metrics_figures_and_no_personal_data(
    street_store, tmp_path
):
    out = write_weekly(street_store, AS_OF, tmp_path / "weekly.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (841.89, 595.28), abs=0.1
    )
    text = _compact(page.extract_text())
    now = compute_metrics(street_store, AS_OF)
    assert "新华街道网格民情周报" in text
    assert "走访达标率" in text and "独居老人" in text and "最需关注的5个网格" in text
    assert f"{now['visits']['overall']['rate'] * 100:.1f}%" in text
    assert f"{now['freshness']['rate'] * 100:.1f}%" in text
    assert "超期未办结事项<3件" in text  # G1's two overdue reports
    assert "西一网格" in text
    for personal in ("张三丰", "138", "150102", "王小明", "李红", "H1", "东风路"):
        assert personal not in text
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    # the Noto Sans SC shipped with gridmap is embedded (subset), whatever the server has
    shipped = [f for f in fonts if str(f["/BaseFont"]).endswith("+NotoSansSC")]
    assert shipped, [str(f["/BaseFont"]) for f in fonts]
    descriptor = shipped[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/FontFile2" in descriptor  # the glyphs travel inside the PDF


def test_pdf_footnote_names_no_command_and_one_name_per_figure(street_store, tmp_path):
    out = write_weekly(street_store, AS_OF, tmp_path / "weekly.pdf")
    text = _compact(PdfReader(out).pages[0].extract_text())
    assert "gridmap" not in text.lower()
    assert "走访达标率" in text and "信息更新率" in text
    assert "合规率" not in text and "新鲜度" not in text


def test_pdf_in_english(street_store, tmp_path):
    out = write_weekly(street_store, AS_OF, tmp_path / "weekly-en.pdf", lang="en")
    text = _compact(PdfReader(out).pages[0].extract_text())
    assert "新华街道weeklygridreview" in text
    assert "Visitcompliance" in text


def test_xlsx_has_one_sheet_per_section_with_small_counts_suppressed(street_store, tmp_path):
    out = write_weekly(street_store, AS_OF, tmp_path / "weekly.xlsx")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["核心指标", "8周趋势", "重点关注网格", "各网格", "案件办理", "说明"]
    headline = pd.read_excel(out, sheet_name="核心指标")
    assert "key" not in headline.columns  # no developer column in the Chinese workbook
    row = headline.set_index("指标").loc["超期未办结"]
    assert pd.isna(row["本周"]) and pd.isna(row["变化"])  # 2 overdue: hidden, not "<3" text
    new = headline.set_index("指标").loc["本周新增事项"]
    assert (new["本周"], new["上周"], new["变化"]) == (3, 4, -1)
    grids = pd.read_excel(out, sheet_name="各网格")
    assert pd.isna(grids.set_index("网格编号").loc["G1", "超期未办结"])
    trend = pd.read_excel(out, sheet_name="8周趋势")
    assert trend.columns[:3].tolist() == ["周截止日", "走访达标率", "信息更新率"]
    every_cell = " ".join(str(c.value) for ws in book for r in ws.iter_rows() for c in r)
    for personal in ("张三丰", "13812345678", "王小明", "东风路", "H1 ", "150102194501011234"):
        assert personal not in every_cell


def test_xlsx_numbers_are_numbers_rounded_as_the_pdf_and_hidden_cells_are_marked(
    street_store, tmp_path
):
    out = write_weekly(street_store, AS_OF, tmp_path / "weekly.xlsx")
    book = openpyxl.load_workbook(out)
    numeric = {
        "户数",
        "应走访户数",
        "走访达标率",
        "信息更新率",
        "超期未办结",
        "本周",
        "上周",
        "变化",
    }
    hidden = 0
    for ws in book.worksheets[:4]:
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for name, cell in zip(header, row, strict=True):
                if name in numeric:
                    assert cell.value is None or isinstance(cell.value, int | float), (
                        ws.title,
                        name,
                    )
                if isinstance(cell.value, float):  # rates with the PDF's 0.1% (3 places)
                    assert cell.value == round(cell.value, 3), (ws.title, name, cell.value)
                if cell.value is None and cell.comment is not None:
                    hidden += 1
                    assert cell.fill.start_color.rgb.endswith(weekly_xlsx.HIDDEN_FILL)
                    assert "小于3" in cell.comment.text
    assert hidden >= 3  # G1's overdue reports in the headline, the grid table, the trend
    rates = book["各网格"]
    visit = [c.value for c in rates[1]].index("走访达标率")
    assert rates.cell(row=2, column=visit + 1).number_format == "0.0%"
    headline = book["核心指标"]
    change = next(r for r in headline.iter_rows(min_row=2) if r[0].value == "走访达标率")[3]
    assert "个百分点" in change.number_format


def test_sheets_keep_rates_as_fractions_rounded_as_the_pdf(street_store):
    sheets = weekly_sheets(weekly_figures(street_store, AS_OF))
    trend = sheets["8周趋势"]
    now = compute_metrics(street_store, AS_OF)
    assert trend.iloc[-1]["走访达标率"] == round(now["visits"]["overall"]["rate"], 3)
    assert list(weekly_sheets(weekly_figures(street_store, AS_OF), "en")) == [
        "Headline",
        "8-week trend",
        "Attention",
        "Grids",
        "Cases",  # issue 19
    ]


def test_unknown_suffix_is_refused(street_store, tmp_path):
    with pytest.raises(ValueError, match=r"\.pdf or \.xlsx"):
        write_weekly(street_store, AS_OF, tmp_path / "weekly.docx")


def test_the_shipped_font_and_its_licence_come_with_gridmap(monkeypatch):
    monkeypatch.delenv(weekly_font.FONT_ENV, raising=False)
    font = cjk_font()
    assert (
        font.regular == weekly_font.FONT_DIR / "NotoSansSC-Regular.ttf" and font.regular.is_file()
    )
    assert font.bold == weekly_font.FONT_DIR / "NotoSansSC-Bold.ttf" and font.bold.is_file()
    assert "SIL Open Font License" in (weekly_font.FONT_DIR / "OFL.txt").read_text(encoding="utf-8")


def test_the_shipped_font_draws_every_character_of_the_catalogue():
    from fontTools.ttLib import TTFont

    from geo.i18n import catalogue

    for path in (weekly_font.SHIPPED_REGULAR, weekly_font.SHIPPED_BOLD):
        covered = set(TTFont(path).getBestCmap())
        text = "".join(v for entry in catalogue().values() for v in entry.values())
        missing = sorted({c for c in text if ord(c) not in covered and not c.isspace()})
        assert not missing, f"{path.name} lacks {''.join(missing)}: rerun tools/build_cjk_font.py"
        # and the common-use characters: GB 2312's first level (3,755 hanzi)
        level1 = bytes(b for hi in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF) for b in (hi, lo))
        hanzi = level1.decode("gb2312", errors="ignore")  # row 0xD7 ends at 0xF9
        assert len(hanzi) == 3755 and all(ord(c) in covered for c in hanzi)


def test_an_override_naming_no_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(weekly_font.FONT_ENV, str(tmp_path / "none.ttc"))
    with pytest.raises(FontMissing, match="no such font file"):
        cjk_font()


def test_font_override_by_environment(monkeypatch):
    path = str(weekly_font.SHIPPED_BOLD)
    monkeypatch.setenv(weekly_font.FONT_ENV, f"{path}#0")
    font = cjk_font()
    assert (str(font.regular), font.index) == (path, 0)


def test_an_empty_store_still_gives_a_one_page_pack(tmp_path):
    store = open_store(str(tmp_path / "none.gpkg"))
    out = write_weekly(store, AS_OF, tmp_path / "empty.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = _compact(reader.pages[0].extract_text())
    assert "网格民情周报" in text and "本周没有需要特别关注的网格" in text
    assert not store.exists()  # writing the pack never creates the store
