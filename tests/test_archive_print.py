"""The decision archive page laid out in a real browser, on screen and on A4 paper: every cell's
content stays in its own cell (no answer drawn under a file's name or hash, no date run into the
event column) and the 填报内容 column is wide enough to read; a stopped plan's page files its
stop under 终止时间."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from .web_helper import open_task, sign_in, signed_in_client

A4_PORTRAIT = {"width": 718, "height": 1000}  # 210 mm less the page's 12 mm margins, at 96 px per inch
OPINION = "经审查，方案符合《重大行政决策程序暂行条例》的规定，建议补充社会稳定风险评估中关于征地补偿和提前公示的应急预案"
FILE = "关于深化商事制度和投资体制改革方案的合法性审查意见书（第二稿）.txt"


def _review_with_a_file(engine) -> None:
    """DT-2015-04's legality review done with a long opinion and a long-named file attached."""
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    engine.attach(review["id"], FILE, "审查意见".encode(), actor="li")
    engine.complete(review["id"], actor="li", data={"legalityResult": "pass", "legalityOpinion": OPINION})


def _boxes(page) -> list[dict]:
    """Each record's cells and what is in them, as the browser laid them out."""
    return page.evaluate("""() => [...document.querySelectorAll("table.archive tbody tr")].map(tr => {
        const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                                                                        bottom: r.bottom, width: r.width}; };
        const cells = [...tr.children];
        return {seq: tr.dataset.seq, em: parseFloat(getComputedStyle(tr).fontSize),
                cells: cells.map(box),
                inside: cells.map(td => [...td.querySelectorAll("dt, dd, p, code, span")].map(box))};
    })""")


def _assert_legible(page) -> None:
    rows = _boxes(page)
    assert rows, "no record laid out"
    for row in rows:
        cells = row["cells"]
        for left, right in zip(cells, cells[1:]):
            assert left["right"] <= right["left"] + 1, f"record {row['seq']}: cells overlap"
        for cell, inside in zip(cells, row["inside"]):
            for item in inside:  # nothing drawn over the next column
                assert cell["left"] - 1 <= item["left"] and item["right"] <= cell["right"] + 1, \
                    f"record {row['seq']}: content runs out of its cell {cell} {item}"
        if row["inside"][3]:  # 填报内容: several characters a line, not one
            assert cells[3]["width"] >= 9 * row["em"], f"record {row['seq']}: 填报内容 {cells[3]['width']} px wide"
    # the files' cell and the values' cell side by side, each its own
    [legality] = [r for r in rows if any(r["inside"][4])]
    values, files = legality["cells"][3], legality["cells"][4]
    assert values["right"] <= files["left"] + 1


@pytest.mark.parametrize("media, viewport", [("screen", {"width": 1200, "height": 900}), ("print", A4_PORTRAIT)])
def test_the_archive_is_legible_on_screen_and_on_a4(live, page, media, viewport):
    engine = live.app.extensions["reformflow"]
    _review_with_a_file(engine)
    sign_in(page, live, "feng")
    page.set_viewport_size(viewport)
    page.emulate_media(media=media)
    page.goto(f"{live.url}/plans/4/archive")
    legality = page.locator("section[data-procedure='legality_review']")
    expect(legality).to_contain_text(FILE)
    expect(legality).to_contain_text(OPINION)
    _assert_legible(page)
    if media == "print":
        assert page.pdf(format="A4").startswith(b"%PDF")


def test_a_stopped_plans_archive_says_who_stopped_it_and_when(live, page):
    engine = live.app.extensions["reformflow"]
    engine.cancel_plan(1, reason="重复发起，终止", actor="chen")
    sign_in(page, live, "feng")
    page.goto(f"{live.url}/plans/1/archive")
    expect(page.locator("dl.facts")).to_contain_text("终止时间")
    expect(page.locator("dl.facts")).not_to_contain_text("办结时间")
    expect(page.get_by_role("status")).to_have_text("无办理记录。 终止记录与审计记录相符。")
    stop = page.locator("section[data-procedure='stop']")
    expect(stop.get_by_role("heading")).to_have_text("方案终止")
    for text in ("陈静", "重复发起，终止", "确认方案任务信息", "第 "):
        expect(stop).to_contain_text(text)


def test_the_page_says_for_whom_for_which_unit_and_when_a_record_was_written(demo_engine, at):
    """李娜 (市司法局) away, 陈静 (市委改革办) completes her legality review, dated years after it is
    written: the row names both people and both units, and both times."""
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    with at("2030-03-04T09:00:00"):
        demo_engine.claim(review["id"], actor="li")
        demo_engine.delegate("li", to="chen", starts_on=date(2030, 3, 4), ends_on=date(2030, 3, 8), reason="出差",
                             actor="li")
        demo_engine.complete(review["id"], actor="chen", data={"legalityResult": "pass", "legalityOpinion": "符合法律法规"})
    html = signed_in_client(demo_engine, "feng").get("/plans/4/archive").get_data(as_text=True)
    row = re.sub(r"<[^>]+>", " ", next(tr for tr in html.split("<tr ") if "合法合规性审查" in tr and "陈静" in tr))
    assert "陈静（代 李娜）" in row and "市司法局" in row and "代办人单位：市委改革办" in row
    assert "2030年3月4日 09:00" in row and "实际写入 " in row
    written_now = next(tr for tr in html.split("<tr ") if "核对送审材料是否齐全" in tr)
    assert "实际写入" not in written_now  # the demo wrote it as it happened
