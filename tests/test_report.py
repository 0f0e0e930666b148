"""Reports (SPEC section 10): report.html as a person sees it in a browser, report.xlsx as a
spreadsheet re-reads it, and ``carepath report`` / ``solve --report`` on the command line.

The browser tests open the page in headless Chromium (Debian's ``chromium``), skip cleanly
when there is none, and save a screenshot of each page into the test artefacts folder
(``$CAREPATH_TEST_ARTIFACTS``, default ``tests/artifacts/``), whose path they print.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser import cli
from optimiser.report import ReportInputError, data, read_run, write_report
from optimiser.report.html import SECTIONS
from optimiser.results.text import money

from conftest import EXAMPLE, ROOT, print_past_capture

FIVE_YEAR = ROOT / "configs" / "northshire_five_year.yaml"
PLAN_SECTIONS = ["headline", "waterfall", "designs", "make-buy", "hospital", "capacity",
                 "constraints", "quality", "about"]
"""Northshire's pathways have redesign variants (SPEC section 11): a designs section."""
PLAN_FIGURES = ["waterfall", "makebuy-pathway", "makebuy-locality", "hospital", "utilisation",
                "quality"]


def _solve(folder: Path, config: Path, overrides=()) -> Path:
    result = optimiser.solve(optimiser.load(config, overrides=list(overrides)))
    result.write(folder)
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def one_year(tmp_path_factory) -> Path:
    return _solve(tmp_path_factory.mktemp("one") / "run", EXAMPLE)


@pytest.fixture(scope="module")
def five_year(tmp_path_factory) -> Path:
    return _solve(tmp_path_factory.mktemp("five") / "run", FIVE_YEAR)


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory) -> Path:
    return _solve(tmp_path_factory.mktemp("infeasible") / "run", EXAMPLE,
                  ["constraints.budget=30000000"])


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def _csv(folder: Path, name: str) -> pd.DataFrame:
    """A CSV with every column that holds only numbers as Python's ``float`` reads them."""
    df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    for c in df.columns:
        try:
            df[c] = [float(v) if v != "" else math.nan for v in df[c]]
        except ValueError:
            pass
    return df


# ---------------------------------------------------------------------------------------
# in a browser

PROBE = """<script>
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("figure svg.chart"), function (s) {
    var r = s.getBoundingClientRect();
    s.setAttribute("data-rendered", Math.round(r.width) + "x" + Math.round(r.height));
    s.setAttribute("data-shapes", s.querySelectorAll("path, rect, use, text").length);
  });
  var th = document.querySelector("#t-quality thead th:last-child, #t-conflict thead th:first-child");
  if (th) { th.querySelector("button").click(); }
  document.body.setAttribute("data-page-height", document.documentElement.scrollHeight);
})();
</script>"""
"""Appended to a copy of the page: records each chart's laid-out size and drawn shapes,
clicks one sortable heading, and notes the page height; the dumped DOM carries the results."""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium binary (apt-get install chromium)")


def _artifacts() -> Path:
    folder = Path(os.environ.get("CAREPATH_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _browse(run: Path, tmp_path: Path, name: str, request) -> tuple[str, Path]:
    """Open the run's report.html (with :data:`PROBE`) in headless Chromium; return the DOM
    after its scripts ran and the screenshot, saved into the artefacts folder with copies of
    the report files."""
    exe = _chromium()
    page = (run / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    png = _artifacts() / f"{name}.png"
    png.unlink(missing_ok=True)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--hide-scrollbars", "--window-size=1280,9000", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={png}", "--dump-dom", probe.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.is_file(), done.stderr[-2000:]
    shutil.copy(run / "report.html", _artifacts() / f"{name}.html")
    shutil.copy(run / "report.xlsx", _artifacts() / f"{name}.xlsx")
    print_past_capture(request.config, [f"report screenshot: {png}"])
    return done.stdout, png


def _check_png(png: Path, min_height: int = 1000) -> np.ndarray:
    """A real page: 1280 wide, not one flat colour, with the charts' Okabe-Ito blue in it."""
    from matplotlib.image import imread

    assert png.stat().st_size > 20_000
    img = imread(png)[..., :3]
    assert img.shape[1] == 1280 and img.shape[0] >= min_height
    rows = img[:: max(1, img.shape[0] // 40)]
    assert float(rows.std()) > 0.05
    assert len(np.unique((rows * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    return img


def _blue_pixels(img: np.ndarray) -> int:
    target = np.array([0x00, 0x72, 0xB2]) / 255.0
    return int((np.abs(img - target).max(axis=-1) < 0.03).sum())


def _by_id(dom: str, ident: str) -> str:
    m = re.search(rf'id="{re.escape(ident)}"[^>]*>([^<]*)<', dom)
    assert m, f"no element {ident}"
    return m.group(1)


def _headings(dom: str) -> dict[str, str]:
    return dict(re.findall(r'<h2 id="([a-z-]+)-h">([^<]*)</h2>', dom))


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_one_year_report_in_chromium(one_year, tmp_path, request):
    """Every section is there, every chart laid out with shapes drawn, the headline numbers
    are summary.json's, a heading click sorts its table, and the screenshot is a real page."""
    dom, png = _browse(one_year, tmp_path, "report-northshire", request)
    s = _summary(one_year)
    heads = _headings(dom)
    assert list(heads) == PLAN_SECTIONS
    assert all(_unescape(heads[k]) == SECTIONS[k] for k in heads)
    for key in PLAN_FIGURES:
        m = re.search(rf'<figure id="fig-{key}"><svg[^>]*data-rendered="(\d+)x(\d+)"[^>]*'
                      r'data-shapes="(\d+)"', dom)
        assert m, key
        w, h, shapes = map(int, m.groups())
        assert w > 400 and h > 150 and shapes > 20, (key, w, h, shapes)
    cur = s["currency"]
    assert _by_id(dom, "headline-objective") == money(s["objective"], cur)
    assert _by_id(dom, "headline-baseline") == money(s["baseline_cost"], cur)
    assert _by_id(dom, "headline-savings") == money(s["savings"], cur)
    assert _by_id(dom, "headline-savings-pct").startswith(f"{s['savings'] / s['baseline_cost']:.1%}")
    assert money(s["objective"], cur) == "£37,395,756"  # the README's example (SPEC 11 redesigns)
    # the probe clicked the quality table's last heading (margin): sorted ascending
    table = re.search(r'<table class="sortable" id="t-quality">.*?</table>', dom, re.S).group(0)
    assert re.search(r'<th scope="col" aria-sort="ascending" class="num" data-type="number">'
                     r'<button type="button">margin above floor', table)
    margins = [float(v) for v in re.findall(r'<td class="num" data-v="([^"]+)">[^<]*</td></tr>', table)]
    assert len(margins) == 15 and margins == sorted(margins)
    img = _check_png(png, 4000)
    assert _blue_pixels(img) > 5000  # the charts' bars, not just text


def test_five_year_report_in_chromium(five_year, tmp_path, request):
    dom, png = _browse(five_year, tmp_path, "report-northshire-five-year", request)
    heads = _headings(dom)
    assert list(heads) == PLAN_SECTIONS[:-1] + ["years", "about"]
    for key in PLAN_FIGURES + ["years"]:
        assert re.search(rf'<figure id="fig-{key}"><svg[^>]*data-rendered="([1-9]\d+)x([1-9]\d+)"', dom), key
    s = _summary(five_year)
    assert _by_id(dom, "headline-objective") == money(s["objective"]) == "£76,639,684"
    assert "cumulative savings turn positive in 2028" in _by_id(dom, "payback")
    _check_png(png, 4000)


def test_infeasible_report_in_chromium(infeasible, tmp_path, request):
    """No plan: the headline says so, the diagnosis is shown, and no plan chart is drawn."""
    dom, png = _browse(infeasible, tmp_path, "report-infeasible", request)
    assert list(_headings(dom)) == ["headline", "diagnosis", "about"]
    assert "<figure" not in dom and "<svg" not in dom
    assert _by_id(dom, "headline-status") == "No plan"
    assert _by_id(dom, "headline-baseline") == money(_summary(infeasible)["baseline_cost"])
    assert "budget is £7,395,756 short" in _by_id(dom, "relaxation-list").strip() or \
        "budget is £7,395,756 short" in dom
    _check_png(png, 600)


# ---------------------------------------------------------------------------------------
# the page's markup


def _page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("which", ["one_year", "five_year", "infeasible"])
def test_page_is_self_contained(which, request):
    """Nothing is fetched: no http(s) source, link or stylesheet, no external script, font
    or CSS import; charts are inline SVG."""
    page = _page(request.getfixturevalue(which))
    assert not re.search(r'\b(?:src|href|xlink:href|action|srcset|poster|data)\s*=\s*["\']?\s*(?:https?:)?//',
                         page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert not re.search(r"<(?:img|iframe|object|embed)\b", page, re.I)
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page


def test_tables_are_sortable_and_accessible(one_year):
    """Every table's headings are buttons (keyboard-reachable) in a th with aria-sort and
    scope; number cells carry their exact value for sorting; every chart has a text
    alternative."""
    page = _page(one_year)
    tables = re.findall(r'<table class="sortable" id="([^"]+)">(.*?)</table>', page, re.S)
    assert {t for t, _ in tables} >= {"t-waterfall", "t-makebuy-pathway", "t-makebuy-locality",
                                      "t-hospital", "t-capacity", "t-constraints", "t-quality"}
    for tid, body in tables:
        heads = re.findall(r"<th\b[^>]*>", body)
        assert heads, tid
        for th in heads:
            assert 'scope="col"' in th and 'aria-sort="none"' in th, (tid, th)
        assert len(re.findall(r'<button type="button">', body)) == len(heads)
        for v in re.findall(r'<td class="num" data-v="([^"]*)">', body):
            assert v == "" or math.isfinite(float(v))
    for key in PLAN_FIGURES:
        svg = re.search(rf'<figure id="fig-{key}">(<svg[^>]*>)<title id="{key}-title">([^<]+)</title>'
                        rf'<desc id="{key}-desc">([^<]+)</desc>', page)
        assert svg, key
        assert 'role="img"' in svg.group(1) and f'aria-labelledby="{key}-title {key}-desc"' in svg.group(1)
        assert len(svg.group(3)) > 40
    # the sorting script: a click handler per heading button, aria-sort updated
    assert "aria-sort" in page.split("<script>")[-1] and "addEventListener(\"click\"" in page


def test_svg_ids_are_unique(one_year):
    """Several charts on one page: every id in the document is unique (matplotlib's clip
    paths and hatch patterns are prefixed per chart)."""
    ids = re.findall(r'\bid="([^"]+)"', _page(one_year))
    assert len(ids) == len(set(ids))


def test_text_from_the_run_is_escaped(one_year, tmp_path):
    """A scenario name or meaning with markup in it is shown as text, never run."""
    folder = tmp_path / "run"
    shutil.copytree(one_year, folder)
    s = _summary(folder)
    s["scenario"] = "<script>alert(1)</script> & <b>co</b>"
    (folder / "summary.json").write_text(json.dumps(s))
    write_report(folder)
    page = _page(folder)
    assert "<script>alert(1)</script>" not in page and "<b>co</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in page


# ---------------------------------------------------------------------------------------
# what the page says


def test_waterfall_steps_add_up(one_year, five_year):
    """summary.json's baseline_parts add up to baseline_cost; the waterfall's steps (plan
    part minus today's part) take today's cost to the plan's."""
    for folder in (one_year, five_year):
        s = _summary(folder)
        assert sum(s["baseline_parts"].values()) == pytest.approx(s["baseline_cost"], abs=0.05)
        steps, exact = data.waterfall(read_run(folder))
        assert exact
        assert steps[0][1] + sum(v for _, v in steps[1:-1]) == pytest.approx(s["objective"], abs=0.05)
        # section 11's parts are drawn only where the plan or today has them
        shown = [p for p in data.PARTS if p not in data.SECTION_11
                 or s["cost"][p] or s["baseline_parts"][p]]
        assert [v for _, v in steps[1:-1]] == pytest.approx(
            [s["cost"][p] - s["baseline_parts"][p] for p in shown], abs=0.01)
        assert [label for label, _ in steps[1:-1]] == [dict(data.WATERFALL_STEPS)[p] for p in shown]


def test_waterfall_of_an_older_run_is_estimated(one_year, tmp_path):
    """A run folder written before baseline_parts existed still gets a waterfall that adds
    up, estimated from allocation.csv, and the page says so."""
    folder = tmp_path / "run"
    shutil.copytree(one_year, folder)
    s = _summary(folder)
    exact = s.pop("baseline_parts")
    (folder / "summary.json").write_text(json.dumps(s))
    parts, is_exact = data.baseline_parts(read_run(folder))
    assert not is_exact
    assert sum(parts.values()) == pytest.approx(s["baseline_cost"], abs=0.05)
    assert parts["buy"] == pytest.approx(exact["buy"], rel=1e-9)  # no block top-ups today
    write_report(folder)
    assert "steps are estimated from allocation.csv" in _page(folder)


def test_quality_floors_are_read_back(one_year, five_year):
    """The floors recovered from constraints.csv are the configs' (0.85, heart failure 0.88)."""
    for folder in (one_year, five_year):
        q = data.quality(read_run(folder))
        expected = np.where(q["pathway"] == "heart_failure", 0.88, 0.85)
        assert q["floor"].to_numpy() == pytest.approx(expected, abs=1e-6)
        assert (q["margin"] >= -1e-6).all()


def test_hospital_activity_and_make_share_match_allocation(one_year):
    a = _csv(one_year, "allocation.csv")
    run = read_run(one_year)
    h = data.out_of_hospital(run).set_index("pathway")
    hosp = a[a["setting"] == "hospital"].groupby("pathway")[["baseline_volume", "volume"]].sum()
    assert h.loc[hosp.index, "hospital_today"].to_numpy() == pytest.approx(hosp["baseline_volume"].to_numpy())
    assert h.loc[hosp.index, "hospital_plan"].to_numpy() == pytest.approx(hosp["volume"].to_numpy())
    mb = data.make_buy(run, "pathway").set_index("pathway")
    for pw, share in _summary(one_year)["make_share"].items():
        assert mb.loc[pw, "share_plan"] == pytest.approx(share, abs=1e-6)


# ---------------------------------------------------------------------------------------
# the workbook


def _book(folder: Path):
    openpyxl = pytest.importorskip("openpyxl")
    return openpyxl.load_workbook(folder / "report.xlsx")


def _sheet_frame(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _formats(ws, column: str) -> set[str]:
    head = [c.value for c in ws[1]]
    j = head.index(column) + 1
    return {ws.cell(row=i, column=j).number_format for i in range(2, min(ws.max_row, 50) + 1)
            if ws.cell(row=i, column=j).value is not None}


def _same_numbers(sheet: pd.DataFrame, csv: pd.DataFrame, columns: list[str]) -> None:
    assert len(sheet) == len(csv)
    for c in columns:
        got = pd.to_numeric(sheet[c], errors="coerce").to_numpy(float)
        want = csv[c].to_numpy(float)
        assert np.array_equal(np.isnan(got), np.isnan(want)), c
        assert np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)]), c


@pytest.mark.parametrize("which", ["one_year", "five_year"])
def test_workbook_matches_the_csvs(which, request):
    folder = request.getfixturevalue(which)
    wb = _book(folder)
    names = ["summary", "allocation", "constraints", "resources", "designs", "quality"]
    assert wb.sheetnames == names + (["by_year"] if which == "five_year" else [])
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None), ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width >= 8
    alloc = _sheet_frame(wb["allocation"])
    csv = _csv(folder, "allocation.csv")
    assert list(alloc.columns) == list(csv.columns)
    _same_numbers(alloc, csv, ["volume", "unit_cost", "cost", "quality", "baseline_volume"])
    assert (alloc["provider"] == csv["provider"]).all() and (alloc["mode"] == csv["mode"]).all()
    assert all("£" in f for f in _formats(wb["allocation"], "cost") | _formats(wb["allocation"], "unit_cost"))
    cons = _sheet_frame(wb["constraints"])
    ccsv = _csv(folder, "constraints.csv")
    assert list(cons.columns) == list(ccsv.columns)
    _same_numbers(cons, ccsv, ["limit", "slack", "shadow_price"])
    assert (cons["name"] == ccsv["name"]).all()
    assert all("£" in f for f in _formats(wb["constraints"], "shadow_price"))
    res = _sheet_frame(wb["resources"])
    _same_numbers(res, _csv(folder, "resources.csv"), ["capacity", "expansion_steps", "used", "utilisation"])
    assert _formats(wb["resources"], "utilisation") == {"0.0%"}
    s = _summary(folder)
    summary = {r[0]: (r[2], r[0]) for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    for key in ("objective", "baseline_cost", "savings"):
        assert summary[key][0] == s[key], key
    for p in data.PARTS:
        assert summary[f"cost.{p}"][0] == s["cost"][p]
        assert summary[f"baseline_parts.{p}"][0] == s["baseline_parts"][p]
    assert summary["savings_share"][0] == pytest.approx(s["savings"] / s["baseline_cost"])
    fmt = {r[0].value: r[2].number_format for r in wb["summary"].iter_rows(min_row=2)}
    assert "£" in fmt["objective"] and "£" in fmt["savings"] and fmt["savings_share"] == "0.0%"


def test_workbook_by_year(five_year):
    wb = _book(five_year)
    ws = wb["by_year"]
    sheet = _sheet_frame(ws)
    by_year = _summary(five_year)["by_year"]
    assert sheet["year"].tolist() == [e["year"] for e in by_year]
    for c in ("spend", "baseline", "savings", "budget", "carry", "setup"):
        assert sheet[c].tolist() == [e[c] for e in by_year], c
        assert all("£" in f for f in _formats(ws, c))
    assert sheet["running"].iloc[0] == "community_hub (new)"


def test_workbook_of_an_infeasible_run(infeasible):
    wb = _book(infeasible)
    assert wb.sheetnames == ["summary", "diagnosis"]
    d = json.loads((infeasible / "diagnosis.json").read_text())
    sheet = _sheet_frame(wb["diagnosis"])
    rel = sheet[sheet["part"] == "relaxation"]
    assert rel["message"].tolist() == [r["message"] for r in d["relaxation"]]
    assert rel["relax_by"].tolist() == [r["relax_by"] for r in d["relaxation"]]
    assert (sheet["part"] == "conflict").sum() == len(d["conflict"])
    summary = {r[0]: r[2] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "infeasible"
    assert summary["baseline_cost"] == _summary(infeasible)["baseline_cost"]


# ---------------------------------------------------------------------------------------
# the command line


def test_cli_report_and_solve_report(one_year, tmp_path, capsys):
    """``carepath report RUN_DIR`` rewrites the report of an earlier run (0);
    ``carepath solve --report`` writes it with the outputs (exit code of the solve)."""
    folder = tmp_path / "earlier"
    shutil.copytree(one_year, folder)
    for name in ("report.html", "report.xlsx"):
        (folder / name).unlink()
    assert cli.main(["report", str(folder)]) == 0
    assert "Report written to" in capsys.readouterr().out
    assert (folder / "report.html").stat().st_size > 10_000 and (folder / "report.xlsx").is_file()
    assert not list(folder.glob(".carepath-*")) and not list(tmp_path.glob(".*staging"))
    out = tmp_path / "solved"
    assert cli.main(["solve", str(EXAMPLE), "--out", str(out), "--set", "constraints.budget=30000000",
                     "--report"]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["diagnosis.json", "report.html", "report.xlsx",
                                                      "summary.json"]


def test_cli_report_bad_folders(one_year, tmp_path, capsys):
    """Not a run folder, or a malformed file in it: exit 2 and one line naming it, no
    traceback."""
    cases = {}
    cases["missing"] = tmp_path / "nowhere"
    (tmp_path / "empty").mkdir()
    cases["no summary"] = tmp_path / "empty"
    bad_json = tmp_path / "bad_json"
    bad_json.mkdir()
    (bad_json / "summary.json").write_text("{not json")
    cases["bad json"] = bad_json
    for name, edit in (("no allocation", lambda f: (f / "allocation.csv").unlink()),
                       ("bad number", lambda f: (f / "resources.csv").write_text(
                           "resource,capacity,expansion_steps,used,utilisation\nx,ten,0,1,0.1\n")),
                       ("missing column", lambda f: (f / "constraints.csv").write_text("name,kind\na,b\n")),
                       ("no objective", lambda f: (f / "summary.json").write_text(
                           json.dumps({**_summary(f), "objective": None})))):
        folder = tmp_path / name.replace(" ", "_")
        shutil.copytree(one_year, folder)
        edit(folder)
        cases[name] = folder
    for name, folder in cases.items():
        assert cli.main(["report", str(folder)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("carepath: ") and len(err.strip().splitlines()) == 1, (name, err)
        assert "Traceback" not in err
    with pytest.raises(ReportInputError, match="column capacity: not a number: 'ten'"):
        read_run(cases["bad number"])


def test_charts_at_the_edges():
    """Many categories (the largest drawn, a note says how many), a plan dearer than today,
    no quality floors, a resource without capacity: every chart still draws."""
    from optimiser.report import charts

    n = 30
    mb = pd.DataFrame({"pathway": [f"p{i}" for i in range(n)], "made_today": 0.0,
                       "bought_today": np.arange(n, dtype=float), "made_plan": 1.0,
                       "bought_plan": np.arange(n, dtype=float), "cost_plan": 1.0,
                       "share_today": 0.0, "share_plan": 0.5})
    c = charts.make_buy(mb, "pathway")
    assert "The 20 largest are drawn; the table has all 30." == c.note
    assert ">p29<" in c.svg and ">p0<" not in c.svg
    w = charts.waterfall([("Today", 100.0), ("Bought care", 30.0), ("Overhead", 0.0),
                          ("Plan", 130.0)], "EUR")
    assert "+€30" in w.svg and "Overhead" not in w.svg and "Overhead" not in w.alt
    q = charts.quality(pd.DataFrame({"locality": ["a"], "pathway": ["b"], "achieved": [0.9],
                                     "floor": [np.nan], "margin": [np.nan]}))
    assert "0.900" in q.svg
    u = charts.utilisation(pd.DataFrame({"resource": ["r", "s"], "capacity": [0.0, 10.0],
                                         "expansion_steps": [0.0, 0.0], "used": [0.0, 10.0],
                                         "utilisation": [np.nan, 1.0], "available": [0.0, 10.0]}))
    assert "100% full" in u.svg


# ---------------------------------------------------------------------------------------
# SPEC section 11: designs adopted, whole units and heads

WHOLE = ROOT / "configs" / "community_hospital.yaml"


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """Variants (heart failure's virtual ward adopted), whole beds and whole nurse heads."""
    return _solve(tmp_path_factory.mktemp("whole") / "run", WHOLE)


def _html_table(page: str, tid: str) -> list[list[str]]:
    """The body cells of a table of the page, as text."""
    import html

    t = re.search(rf'<table class="sortable" id="{tid}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert t, tid
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", t.group(1))]


def test_designs_units_and_heads_sections(whole):
    page = _page(whole)
    s = _summary(whole)
    assert list(_headings(page)) == ["headline", "waterfall", "designs", "make-buy", "hospital",
                                     "capacity", "units", "constraints", "quality", "about"]
    # designs adopted: one row per adoption in summary.json, with what it saves
    rows = _html_table(page, "t-designs")
    adopted = s["adoptions"]
    assert len(rows) == len(adopted) > 0
    for row, a in zip(rows, adopted):
        assert row[:3] == [a["locality"], a["pathway"], a["name"]]
        assert row[-1] == money(a["saves"]) and row[3] == money(a["adoption_cost"])
    total = sum(a["saves"] for a in adopted)
    assert _unescape(_by_id(page, "designs-sentence")) == (
        f"{len(adopted)} of {len(s['designs'])} locality-pathway pairs adopt a new design; "
        f"together they save {money(total)} after their adoption costs.")
    # whole units: units.csv's rows
    units = _csv(whole, "units.csv")
    rows = _html_table(page, "t-units")
    assert [r[:2] for r in rows] == units[["provider", "activity"]].values.tolist()
    assert [r[-1] for r in rows] == [money(v) for v in units["cost"]]
    # whole heads: resources.csv's rows with a provider; capacity: one row per resource
    res = _csv(whole, "resources.csv")
    per_head = res[res["provider"] != ""]
    rows = _html_table(page, "t-heads")
    assert [r[:3] for r in rows] == per_head[["resource", "provider", "activity"]].values.tolist()
    cap = data.utilisation(read_run(whole)).set_index("resource")
    assert list(cap.index) == list(dict.fromkeys(res["resource"]))
    for r, g in res.groupby("resource"):
        assert cap.loc[r, "used"] == pytest.approx(g["used"].sum())
        assert cap.loc[r, "available"] >= cap.loc[r, "capacity"] * (1 - 1e-6)
    # the waterfall has the section 11 parts, and they take today's cost to the plan's
    steps, exact = data.waterfall(read_run(whole))
    labels = [label for label, _ in steps]
    assert {"Adopting new designs", "Whole units", "Resource costs"} <= set(labels)
    assert steps[0][1] + sum(v for _, v in steps[1:-1]) == pytest.approx(s["objective"], abs=0.05)


def test_workbook_has_units_and_designs(whole):
    wb = _book(whole)
    assert wb.sheetnames == ["summary", "allocation", "constraints", "resources", "units",
                             "designs", "quality"]
    units = _sheet_frame(wb["units"])
    ucsv = _csv(whole, "units.csv")
    assert list(units.columns) == list(ucsv.columns)
    _same_numbers(units, ucsv, ["size", "units", "capacity", "volume", "cost", "baseline_units"])
    res = _sheet_frame(wb["resources"])
    rcsv = _csv(whole, "resources.csv")
    assert list(res.columns) == list(rcsv.columns)
    _same_numbers(res, rcsv, ["capacity", "used", "need"])
    designs = _sheet_frame(wb["designs"])
    s = _summary(whole)
    assert designs["saves"].tolist() == [a["saves"] for a in s["adoptions"]]
    assert all("£" in f for f in _formats(wb["designs"], "saves"))
    summary = {r[0]: r[2] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    for p in ("adoption", "units", "resources"):
        assert summary[f"cost.{p}"] == s["cost"][p] and s["cost"][p] > 0


def test_no_redesign_adopted_and_an_earlier_run_without_section_11(one_year, tmp_path):
    """A scenario with variants where every locality keeps today's design says so; a run
    folder written before SPEC section 11 (no designs, no section 11 cost parts) still
    reports, without those sections."""
    folder = tmp_path / "kept"
    result = optimiser.solve(optimiser.load(EXAMPLE, overrides=["constraints.max_redesigns=0"]))
    result.write(folder)
    write_report(folder)
    page = _page(folder)
    assert "designs" in _headings(page)
    assert "no redesign is adopted" in _by_id(page, "designs-sentence")
    assert "t-designs" not in page

    old = tmp_path / "old"
    shutil.copytree(one_year, old)
    s = _summary(old)
    for key in ("designs", "adoptions"):
        s.pop(key, None)
    for part in ("adoption", "units", "resources"):
        s["cost"].pop(part, None)
        s["baseline_parts"].pop(part, None)
    (old / "summary.json").write_text(json.dumps(s))
    a = pd.read_csv(old / "allocation.csv", dtype=str, keep_default_na=False)
    a.drop(columns=["variant"], errors="ignore").to_csv(old / "allocation.csv", index=False)
    write_report(old)
    page = _page(old)
    assert "designs" not in _headings(page) and "units" not in _headings(page)
    steps, exact = data.waterfall(read_run(old))
    assert exact and "Adopting new designs" not in [label for label, _ in steps]
    assert read_run(old).units is None
