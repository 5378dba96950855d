"""办理时效统计 in a real browser, over the demo: the reform office finds the page in its header,
reads the steps the slowest first as `Engine.step_times` counts them, with a bar as long as
the median against the slowest's, and the lead units, follows an overdue count to the inbox's overdue list,
narrows to one process, downloads the same table as .csv and reads it in English. A drafter
has no link and gets 403."""
from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from engine import display
from engine.step_times import step_id
from engine.step_times_export import HEADERS

from .web_helper import sign_in


def _engine(live):
    return live.app.extensions["reformflow"]


def test_the_office_sees_the_slowest_step_first_and_downloads_the_table(live, page):
    expected = _engine(live).step_times("chen")
    assert expected["steps"], "the demo completes steps this year"
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="办理时效").click()
    # its load: the rows are read and the bar (drawn by the style sheet) measured below, none of which waits
    page.wait_for_url(f"{live.url}/stats")
    expect(page.locator("h1")).to_contain_text("办理时效统计")
    since, until = (display.day(expected[k], True) for k in ("since", "until"))  # 2026年1月1日, as the page's other dates
    expect(page.locator("h1")).to_contain_text(f"{since} 至 {until} 办结")

    rows = page.locator("tr[data-step]")
    shown = [r.get_attribute("data-step") for r in rows.all()]
    assert shown == [f"{s['process_key']}/{step_id(s)}" for s in expected["steps"]]
    slowest = expected["steps"][0]
    first = rows.first
    expect(first.locator("td.bar")).to_have_text(str(slowest["median_working_days"]))
    expect(first.locator("td.bar span")).to_have_class("w100")
    medians = [float(t) for t in page.locator("tr[data-step] td.bar").all_inner_texts()]
    assert medians == sorted(medians, reverse=True) and medians[0] == slowest["median_working_days"] > 0
    # the bar is drawn by the stylesheet (no inline style: the CSP), as wide as the cell
    cell, bar = first.locator("td.bar").bounding_box(), first.locator("td.bar span").bounding_box()
    assert bar["width"] > 0.8 * cell["width"] - 20

    # per lead unit, the most overdue first, as the engine counts
    units = page.locator("table.stats-units tr[data-unit]")
    assert [u.get_attribute("data-unit") for u in units.all()] == [u["lead_unit"] or "" for u in expected["units"]]
    assert len(expected["units"]) > 1

    # an overdue count opens the inbox's overdue list, found by the step's name
    overdue = next(s for s in expected["steps"] if s["open_overdue"])
    row = page.locator(f'tr[data-step="{overdue["process_key"]}/{step_id(overdue)}"]')
    row.locator("td").last.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/tasks\?.*overdue=1"))  # and its load: count() does not wait
    listed = page.locator("tr[data-task]")
    expect(listed.first).to_contain_text(overdue["name"])
    assert listed.count() >= overdue["open_overdue"]
    page.go_back()

    with page.expect_download() as caught:
        page.get_by_role("link", name="CSV").click()
    text = open(caught.value.path(), encoding="utf-8-sig").read()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == list(HEADERS)
    assert [(r[1], r[3]) for r in table[1:]] == [(s["process_key"], step_id(s)) for s in expected["steps"]]
    assert table[1][5] == str(slowest["median_working_days"])

    # one process: only its plans' steps
    page.get_by_label("流程").select_option("reform_plan")
    page.get_by_role("button", name="统计").click()
    page.wait_for_url(re.compile(r"process=reform_plan"))  # and its load: all() does not wait
    keys = {s.split("/")[0] for s in (r.get_attribute("data-step") for r in page.locator("tr[data-step]").all())}
    assert keys == {"reform_plan"}

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("How long steps take")
    expect(page.get_by_role("navigation").get_by_role("link", name="Step times")).to_be_visible()


def test_a_wrong_date_is_refused_on_the_page(live, page):
    sign_in(page, live, "chen")
    answer = page.goto(f"{live.url}/stats?since=2026-10-10&until=2026-10-01")
    assert answer.status == 400
    expect(page.get_by_role("alert").first).to_contain_text("早于开始日期")


def test_a_drafter_has_no_link_and_is_refused(live, page):
    sign_in(page, live, "zhang")
    expect(page.get_by_role("navigation").get_by_role("link", name="办理时效")).to_have_count(0)
    for path in ("/stats", "/stats.csv", "/stats.xlsx"):
        assert page.goto(f"{live.url}{path}").status == 403, path
    expect(page.locator("main")).to_contain_text("只有改革办可以查看此页面")
