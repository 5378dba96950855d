"""The reform office's reports and calendar in a real browser, over the demo: the quarterly bulletin
and the supervision ledger show the rows `reformflow bulletin` / `reformflow supervision` print,
marked and coloured as they are, and download as the same .xlsx and .csv; the working-day
calendar lists the year as `reformflow calendar show` does, enters and takes back a day (with a
note) and imports a schedule file (shown first when it changes many days), each time listing the
deadlines that moved; two office members entering the same day get a conflict. A drafter gets 403.
The engine's check of what the person saw runs on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect
from sqlalchemy import select

from engine import clock, display
from engine.bulletin import Quarter
from engine.cli import main
from engine.errors import Conflict
from engine.workdays import package_knows
from models import AuditEvent, CalendarOverride, HumanTask

from .conftest import is_workday
from .web_helper import sign_in

SCHEDULE = "日期,安排,说明\n2027-01-01,放假,元旦\n2027-02-06..2027-02-12,放假,春节\n2027-02-13,上班,春节调休\n"


def _engine(live):
    return live.app.extensions["reformflow"]


def _cli(live, *args) -> str:
    result = CliRunner().invoke(main, ["--db", _engine(live).db.url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _cli_rows(printed: str) -> list[tuple[bool, int, str]]:
    """(marked 【！】, plan id, the standing's Chinese name) of each plan line the command printed."""
    return [(bool(m.group(1)), int(m.group(2)), m.group(3))
            for m in re.finditer(r"^  (【！】)?#(\d+) .*? \[(\S+) [^\]]*\]", printed, re.M)]


def _page_rows(page, section: str, cell: str) -> list[tuple[bool, int, str]]:
    rows = page.locator(f"{section} tr[data-plan]")
    return [(r.locator(".attention").count() == 1, int(r.get_attribute("data-plan")),
             r.locator(cell).inner_text().replace("【！】", "").replace("需关注", "").strip().split("\n")[0])
            for r in rows.all()]


def _entries(engine) -> dict[str, tuple[bool, str]]:
    with engine.db.reader() as s:
        return {o.day.isoformat(): (o.is_working_day, o.note) for o in s.execute(select(CalendarOverride)).scalars()}


def _download(page, link: str):
    with page.expect_download() as caught:
        page.get_by_role("link", name=link).click()
    return caught.value


# ------------------------------------------------------------------ the quarterly bulletin
def test_the_office_reads_the_bulletin_as_the_command_line_prints_it_and_downloads_it(live, page):
    from openpyxl import load_workbook
    today = clock.today()
    quarter = Quarter(today.year, (today.month - 1) // 3 + 1)  # the demo's quarterly plan reports for it
    later = datetime.combine(quarter.last_day + timedelta(days=45), datetime.min.time()).replace(hour=10)
    printed = _cli(live, "--now", later.isoformat(), "bulletin", "--quarter", quarter.code, "--all")
    expected = _cli_rows(printed)
    assert expected and all(marked for marked, _id, _standing in expected)  # past the due date: missing, marked
    clock.set_override(later)  # the web page at the same moment

    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="季度通报").click()
    expect(page.locator("h1")).to_contain_text("季度通报")
    page.get_by_label("季度").select_option(quarter.code)
    page.get_by_label("另列其他实施中的方案").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"/bulletin\?.*all=1"))  # and its load: the rows are read below without waiting
    expect(page.locator("h1")).to_contain_text(display.quarter(quarter.code, True))  # 2026年第四季度
    shown = _page_rows(page, "#quarterly", "td.fill") + _page_rows(page, "#others", "td.fill")
    assert shown == expected
    first = page.locator("#quarterly tr[data-plan]").first
    expect(first.locator("td.fill")).to_have_text(re.compile("逾期未报送"))
    expect(first.locator("td.fill")).to_have_css("background-color", "rgb(255, 199, 206)")  # red, as in the file
    result = _engine(live).bulletin(quarter.code, everything=True)
    assert first.locator("td.warning").get_attribute("data-colour") == result["plans"][0]["colour"]
    expect(page.locator("#quarterly p.summary")).to_contain_text(f"共 {len(result['plans'])} 个方案")

    workbook = load_workbook(io.BytesIO(_download(page, "Excel (.xlsx)").path().read_bytes()))
    sheet = workbook.active
    ids = [sheet.cell(row, 2).value for row in range(3, sheet.max_row + 1)]
    assert ids == [plan_id for _m, plan_id, _s in expected]
    assert sheet.cell(3, 7).value == "逾期未报送" and sheet.cell(3, 7).fill.fgColor.rgb.endswith("FFC7CE")
    text = _download(page, "CSV").path().read_text(encoding="utf-8-sig")
    assert [int(r["编号"]) for r in csv.DictReader(io.StringIO(text))] == ids

    page.get_by_label("牵头单位").fill("没有这个单位")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#quarterly .empty")).to_contain_text("没有符合条件的方案")
    assert page.goto(f"{live.url}/bulletin?quarter=2026Q9").status == 400
    expect(page.get_by_role("alert")).to_contain_text("季度写作 2026Q4")


# ------------------------------------------------------------------ the supervision ledger
def test_the_office_reads_the_supervision_ledger_as_the_command_line_prints_it(live, page):
    from openpyxl import load_workbook
    year = clock.today().year + 1
    printed = _cli(live, "supervision", "--year", str(year))
    expected = [int(i) for i in re.findall(r"^  (?:【！】)?#(\d+) ", printed, re.M)]
    result = _engine(live).supervision(year=year)
    assert expected == [r["id"] for r in result["plans"]] and expected

    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="督察整改", exact=True).click()
    page.get_by_label("年度").select_option(str(year))
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(f"year={year}"))  # and its load: evaluate_all does not wait for the rows
    rows = page.locator("tr[data-plan]")
    assert [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.plan)")] == expected
    done = next(r for r in result["plans"] if r["supervision"]["state"] == "done")
    row = page.locator(f"tr[data-plan='{done['id']}']")
    expect(row.locator("td.fill").first).to_contain_text("已督察")
    expect(row.locator("td.fill").first).to_have_css("background-color", "rgb(198, 239, 206)")  # green
    expect(row).to_contain_text(done["notice"]["number"])  # the rectification notice, as the CLI prints it
    assert done["notice"]["number"] in printed
    expect(page.locator("p.summary")).to_contain_text(f"共 {len(expected)} 个方案")

    workbook = load_workbook(io.BytesIO(_download(page, "Excel (.xlsx)").path().read_bytes()))
    sheet = workbook.active
    assert sheet.cell(1, 1).value.startswith(f"{year}年度督察整改台账")
    assert [sheet.cell(r, 1).value for r in range(3, sheet.max_row + 1)] == expected
    text = _download(page, "CSV").path().read_text(encoding="utf-8-sig")
    assert [int(r["编号"]) for r in csv.DictReader(io.StringIO(text))] == expected


# ------------------------------------------------------------------ the calendar
def _a_deadline_to_move(engine) -> tuple[dict, date]:
    """The demo's legality review, due in 15 working days, and a working weekday before its due
    date: entered as a day off, it moves the deadline."""
    with engine.db.reader() as s:
        task = s.execute(select(HumanTask).where(HumanTask.element_id == "Task_LegalityReview",
                                                 HumanTask.status == "open")).scalars().first()
        due = task.due_at.astimezone(clock.TZ).date() - timedelta(days=1)
        day = due - timedelta(days=1)
        while not is_workday(day):
            day -= timedelta(days=1)
        return {"id": task.id, "instance_id": task.instance_id, "due_at": task.due_at}, day


def test_the_office_enters_and_takes_back_a_day_and_sees_which_deadlines_moved(live, page):
    engine = _engine(live)
    task, day = _a_deadline_to_move(engine)
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="工作日日历").click()
    expect(page.locator("h1")).to_contain_text(f"{clock.today().year} 年工作日日历")
    page.goto(f"{live.url}/calendar/{day.year}")
    # what the command line lists for the year, the page lists
    listed = json.loads(_cli(live, "calendar", "show", str(day.year), "--json"))["days"]
    assert page.locator("tr[data-day]").evaluate_all("rs => rs.map(r => r.dataset.day)") == [d["day"] for d in listed]

    form = page.locator("form.calendar-day")
    form.get_by_label("日期").fill(day.isoformat())
    form.get_by_label("放假").check()
    form.get_by_label("说明").fill("临时放假")
    form.get_by_role("button", name="录入").click()
    shown = display.day(day, True)  # the page's dates as its others: 2026年12月24日
    expect(page.locator("section.changed")).to_contain_text(f"{shown}：已录入为放假（临时放假）")
    with engine.db.reader() as s:
        moved_to = s.get(HumanTask, task["id"]).due_at
    assert moved_to != task["due_at"]
    if package_knows(day.year):  # in a year nobody entered, a first entry also drops the make-up days the law's rule guessed
        assert moved_to > task["due_at"]
    item = page.locator(f"ul.moved li[data-task='{task['id']}']")
    expect(item).to_contain_text(f"{display.day((task['due_at'] - timedelta(minutes=1)).astimezone(clock.TZ).date(), True)} → "
                                 f"{display.day((moved_to - timedelta(minutes=1)).astimezone(clock.TZ).date(), True)}")
    row = page.locator(f"tr[data-day='{day}']")
    expect(row).to_contain_text("改革办录入：临时放假")
    assert _entries(engine)[day.isoformat()] == (False, "临时放假")

    expect(row.locator("td").first).to_have_text(shown)
    row.get_by_role("button", name=f"撤销录入 {shown}").click()
    expect(page.locator("section.changed")).to_contain_text(f"{shown}：已撤销录入，现为工作日")
    expect(page.locator(f"ul.moved li[data-task='{task['id']}']")).to_contain_text("→")
    assert day.isoformat() not in _entries(engine)
    with engine.db.reader() as s:
        assert s.get(HumanTask, task["id"]).due_at == task["due_at"]
        said = [json.loads(p)["new"] for p in s.execute(select(AuditEvent.payload).where(
            AuditEvent.event_type == "calendar_changed")).scalars()]
    assert said == [{"working": False}, {"working": None}]


def test_a_note_is_required_and_the_day_must_be_in_the_pages_year(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/calendar/2027")
    token = page.locator("form.calendar-day input[name=csrf_token]").get_attribute("value")
    seen = page.locator("form.calendar-day input[name=seen]").get_attribute("value")
    for form, problem in (({"day": "2027-10-08", "action": "off", "note": " "}, "须填写说明"),
                          ({"day": "2028-10-09", "action": "off", "note": "x"}, "须填写 2027 年内的日期")):
        answer = page.request.post(f"{live.url}/calendar/2027/day", form={"csrf_token": token, "seen": seen, **form})
        assert answer.status == 400 and problem in answer.text()
    assert _entries(_engine(live)) == {}


def test_two_office_members_entering_the_same_day_get_a_conflict_not_an_overwrite(live, browser):
    engine = _engine(live)
    pages = {}
    for who in ("chen", "yang"):
        pages[who] = browser.new_context(locale="zh-CN").new_page()
        sign_in(pages[who], live, who)
        pages[who].goto(f"{live.url}/calendar/2027")
    for who, note in (("chen", "国庆节"), ("yang", "国庆节调整")):
        form = pages[who].locator("form.calendar-day")
        form.get_by_label("日期").fill("2027-10-08")
        form.get_by_label("放假").check()
        form.get_by_label("说明").fill(note)
        with pages[who].expect_response(re.compile("/calendar/2027/day")) as answer:
            form.get_by_role("button", name="录入").click()
        if who == "chen":  # the year's first entry: 2027 counts as entered from now on, and is said to
            expect(pages[who].locator(".flash.warning")).to_contain_text("这是 2027 年录入的第一天：该年从此算作已录入")
        if who == "yang":  # entered on a page that showed the day free: chen's entry stands
            assert answer.value.status == 409
            expect(pages[who].locator(".flash.conflict")).to_contain_text("2027-10-08 刚被其他人修改过，现为放假“国庆节”")
    assert _entries(engine) == {"2027-10-08": (False, "国庆节")}
    # taking it back from a page that showed another entry is refused too
    engine.set_calendar_day(date(2027, 10, 8), working=False, note="国庆节（更正）", actor="yang")
    with pages["chen"].expect_response(re.compile("/calendar/2027/day")) as answer:
        pages["chen"].get_by_role("button", name="撤销录入 2027年10月8日").click()
    assert answer.value.status == 409
    assert _entries(engine) == {"2027-10-08": (False, "国庆节（更正）")}
    for p in pages.values():
        p.context.close()


def test_a_schedule_file_that_changes_many_days_is_shown_before_it_is_entered(live, page):
    engine = _engine(live)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/calendar/2027")
    expect(page.get_by_role("alert")).to_contain_text("尚无 2027 年节假日安排，涉及该年的工作日期限暂按法定节假日和周末计算，调休未录入")
    # meanwhile the days off by law are counted, and listed as such
    expect(page.locator("tr[data-day='2027-01-01'][data-by-law='true']")).to_contain_text("法定节假日（依法） · 元旦")
    # and 国庆节's Saturday and Sunday made up on Monday 4 and Tuesday 5 October, said to be a guess
    expect(page.locator("tr[data-day='2027-10-04'][data-by-law='true']")).to_contain_text("按法律推定的补假 · 国庆节补假")
    page.get_by_label("日历文件（CSV）").set_input_files(
        {"name": "2027.csv", "mimeType": "text/csv", "buffer": SCHEDULE.encode("gb18030")})
    page.get_by_role("button", name="导入", exact=True).click()
    confirm = page.locator("section.confirm")
    expect(confirm).to_contain_text("该文件将更改 9 天")
    expect(confirm.locator("tr[data-day]")).to_have_count(9)
    assert _entries(engine) == {}  # nothing entered yet
    confirm.get_by_role("button", name="确认录入 9 天").click()
    expect(page.locator("section.changed")).to_contain_text("已从 2027.csv 录入 9 天：放假 8 天，调休上班 1 天；已有相同记录 0 天。")
    entered = _entries(engine)
    assert len(entered) == 9 and entered["2027-02-13"] == (True, "春节调休")
    expect(page.get_by_role("alert")).to_have_count(0)  # the year counts as entered now
    expect(page.locator("tr[data-day='2027-01-01'][data-by-law='false']")).to_contain_text("改革办录入：元旦")
    listed = json.loads(_cli(live, "calendar", "show", "2027", "--json"))["days"]
    page.wait_for_load_state("load")  # the year's first row shown is not its last: evaluate_all does not wait
    assert page.locator("tr[data-day]").evaluate_all("rs => rs.map(r => r.dataset.day)") == [d["day"] for d in listed]

    # a small file goes straight in
    page.get_by_label("日历文件（CSV）").set_input_files(
        {"name": "extra.csv", "mimeType": "text/csv", "buffer": "日期,安排,说明\n2027-10-08,放假,国庆节\n".encode()})
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("section.changed")).to_contain_text("已从 extra.csv 录入 1 天")
    assert _entries(engine)["2027-10-08"] == (False, "国庆节")


def test_an_import_confirmed_after_someone_changed_one_of_its_days_enters_nothing(live, page):
    engine = _engine(live)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/calendar/2027")
    page.get_by_label("日历文件（CSV）").set_input_files(
        {"name": "2027.csv", "mimeType": "text/csv", "buffer": SCHEDULE.encode()})
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("section.confirm")).to_contain_text("该文件将更改 9 天")
    engine.set_calendar_day(date(2027, 1, 1), working=False, note="元旦（杨帆录入）", actor="yang")
    with page.expect_response(re.compile("/calendar/2027/import")) as answer:
        page.get_by_role("button", name="确认录入 9 天").click()
    assert answer.value.status == 409
    expect(page.locator(".flash.conflict")).to_contain_text("2027-01-01 刚被其他人修改过")
    assert _entries(engine) == {"2027-01-01": (False, "元旦（杨帆录入）")}


def test_a_wrong_file_is_refused_naming_its_lines(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/calendar/2027")
    page.get_by_label("日历文件（CSV）").set_input_files(
        {"name": "../../etc/passwd", "mimeType": "text/csv", "buffer": "日期,安排,说明\n2027-13-01,放假,x\n".encode()})
    with page.expect_response(re.compile("/calendar/2027/import")) as answer:
        page.get_by_role("button", name="导入", exact=True).click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert").first).to_contain_text("第 2 行")
    assert _entries(_engine(live)) == {}


# ------------------------------------------------------------------ who may
def test_a_drafter_sees_no_reports_nor_calendar_and_may_change_nothing(live, page):
    sign_in(page, live, "zhang")
    nav = page.get_by_role("navigation")
    for link in ("季度通报", "督察整改", "工作日日历"):
        expect(nav.get_by_role("link", name=link)).to_have_count(0)
    for path in ("/bulletin", "/bulletin.xlsx", "/supervision?year=2027", "/supervision.csv", "/calendar",
                 "/calendar/2027"):
        assert page.goto(f"{live.url}{path}").status == 403, path
    expect(page.get_by_role("alert")).to_contain_text("只有改革办可以查看此页面")
    page.goto(f"{live.url}/tasks")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"{live.url}/calendar/2027/day",
                               form={"csrf_token": token, "seen": "{}", "day": "2027-10-08", "action": "off", "note": "x"})
    assert answer.status == 403
    answer = page.request.post(f"{live.url}/calendar/2027/import", multipart={
        "csrf_token": token, "seen": "{}",
        "schedule": {"name": "2027.csv", "mimeType": "text/csv", "buffer": SCHEDULE.encode()}})
    assert answer.status == 403
    assert _entries(_engine(live)) == {}


# ------------------------------------------------------------------ the engine's check
@pytest.mark.parametrize("change", ["set", "remove", "import"])
def test_a_day_changed_since_the_person_saw_it_is_a_conflict(engine, people, change):
    day = date(2027, 10, 8)
    engine.set_calendar_day(day, working=False, note="国庆节", actor="chen")
    stale = {day: None}  # the page showed the day with nothing entered
    with pytest.raises(Conflict, match="2027-10-08 刚被其他人修改过，现为放假“国庆节”"):
        if change == "set":
            engine.set_calendar_day(day, working=False, note="另一说明", actor="chen", seen=stale)
        elif change == "remove":
            engine.remove_calendar_day(day, actor="chen", seen=stale)
        else:
            engine.set_calendar_days([(date(2027, 10, 7), False, "x"), (day, False, "y")], actor="chen", seen=stale)
    with engine.db.reader() as s:
        assert {o.day: o.note for o in s.execute(select(CalendarOverride)).scalars()} == {day: "国庆节"}
    # as seen, it goes through
    engine.set_calendar_day(day, working=False, note="国庆节（更正）", actor="chen", seen={day: (False, "国庆节")})
    engine.remove_calendar_day(day, actor="chen", seen={day: (False, "国庆节（更正）")})
