"""Every date a person reads on a Chinese page written as the page's step list writes it
(2026年12月25日), ISO on an English page; the command line keeps ISO (year-end audit, 2026: the
ledger's 延误 lines, the calendar's table and its import confirmation, the trail's 期限变更 and the
supervision table read 2026-12-25 beside 2026年12月25日)."""
from __future__ import annotations

import io
import json
import re

from click.testing import CliRunner

from engine.cli import main

from .plan_helper import Plan
from .test_web_new_year import SCHEDULE_2027
from .web_helper import page_text, signed_in_client

PASSWORD = "correct horse battery"
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _clients(engine, *password):
    """The office in Chinese and in English (`password`: a library's, set by _review_moved; the demo's else)."""
    return (signed_in_client(engine, "chen", *password, language="zh"),
            signed_in_client(engine, "chen", *password, language="en"))


def _review_moved(library, at):
    """A legality review opened on 20 January 2027, due 16 February while 2027 was not entered;
    1 January entered on the calendar page makes it due 12 February (tests/test_web_new_year.py)."""
    with at("2027-01-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    with at("2027-01-21T09:00:00"):
        library.set_password("chen", PASSWORD, actor="chen", first=True)
        chen, _ = _clients(library, PASSWORD)
        moved = page_text(chen.post("/calendar/2027/day", data={"day": "2027-01-01", "action": "off", "note": "元旦",
                                                                "seen": "{}"}))
    return plan, moved


def test_the_trail_on_a_chinese_page_writes_a_moved_deadline_as_the_page_does_and_the_command_line_keeps_iso(library, at):
    plan, moved = _review_moved(library, at)
    assert "2027年1月1日：已录入为放假（元旦）" in moved
    with at("2027-01-21T10:00:00"):
        chen, english = _clients(library, PASSWORD)
        page = page_text(chen.get(f"/plans/{plan.id}"))
        assert "期限变更 合法合规性审查：2027年2月16日 → 2027年2月12日（节假日安排录入或撤销后重算）" in page
        assert "生成待办 合法合规性审查（法制机构，期限 2027年2月16日" in page
        assert "2027-02-16" not in page and "2027-02-12" not in page
        trail = page_text(chen.get(f"/plans/{plan.id}/trail"))
        assert "期限变更 合法合规性审查：2027年2月16日 → 2027年2月12日" in trail
        in_english = page_text(english.get(f"/plans/{plan.id}"))
        assert "due changed 合法合规性审查: 2027-02-16 → 2027-02-12 (calendar changed)" in in_english
        assert "2027年2月" not in in_english
    shown = CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id)]).stdout
    assert "期限变更 (due changed) 合法合规性审查：2027-02-16 → 2027-02-12（节假日安排录入或撤销后重算 (calendar changed)）" in shown
    assert "年2月" not in shown
    events = json.loads(CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id), "--json"]).stdout)
    moved = next(e for e in events["events"] if e["event_type"] == "task_due_changed")
    assert moved["payload"]["new"]["due_at"] == "2027-02-12T16:00:00+00:00"  # the JSON keeps its instants


def test_the_ledger_and_a_plan_s_page_write_a_missed_deadline_as_the_page_does(library, at):
    plan, _ = _review_moved(library, at)
    with at("2027-02-22T09:00:00"):
        chen, english = _clients(library, PASSWORD)
        row = next(r for r in library.ledger(year=2027) if r["id"] == plan.id)
        days = row["missed"][0]["days_late"]
        ledger = page_text(chen.get("/ledger?year=2027"))
        assert f"合法合规性审查：期限 2027年2月12日，已逾期 {days} 天" in ledger
        assert "期限 2027-02-12" not in ledger
        own = page_text(chen.get(f"/plans/{plan.id}"))
        assert f"合法合规性审查：期限 2027年2月12日，已逾期 {days} 天" in own
        in_english = page_text(english.get("/ledger?year=2027"))
        assert f"due 2027-02-12, {days} days overdue" in in_english and "2027年2月12日" not in in_english
        assert f"due 2027-02-12, {days} days overdue" in page_text(english.get(f"/plans/{plan.id}"))
        # the command line's ledger and the files keep ISO, which scripts and spreadsheets read
        shown = CliRunner().invoke(main, ["--db", library.db.url, "ledger", "--year", "2027"]).stdout
        assert f"合法合规性审查：期限 2027-02-12，已逾期 {days} 天 (due 2027-02-12" in shown and "2027年2月12日" not in shown


def test_the_calendar_page_writes_its_days_as_the_page_does(demo_engine):
    chen, english = _clients(demo_engine)
    page = page_text(chen.get("/calendar/2027"))
    assert "2027年1月1日 星期五 放假 法定节假日（依法） · 元旦" in page
    table = page.split("放假和调休", 1)[1].split("录入一天", 1)[0]
    assert not ISO_DAY.search(table), table
    # the example of the file keeps ISO: it is what the file is to hold
    assert "2027-01-01,放假,元旦" in page
    in_english = page_text(english.get("/calendar/2027"))
    assert "2027-01-01 Friday day off" in in_english and "2027年1月1日" not in in_english
    # the day's own form keeps the ISO a date input takes
    html = chen.get("/calendar/2027").get_data(as_text=True)
    assert 'min="2027-01-01"' in html and '<tr data-day="2027-01-01"' in html


def test_the_calendar_import_confirmation_writes_its_days_as_the_page_does(demo_engine):
    chen, english = _clients(demo_engine)

    def preview(client):
        return page_text(client.post("/calendar/2027/import", data={
            "schedule": (io.BytesIO(SCHEDULE_2027), "2027.csv"), "seen": "{}"}, content_type="multipart/form-data"))
    page = preview(chen)
    confirm = page.split("确认录入 2027.csv", 1)[1].split("取消", 1)[0]
    assert "2027年5月3日 放假（按法律推定的补假 · 劳动节补假） 放假 劳动节" in confirm
    assert not ISO_DAY.search(confirm), confirm
    confirm = preview(english)
    assert re.search(r"2027-05-03 day off \(", confirm) and "2027年5月3日" not in confirm


def test_the_supervision_table_writes_its_dates_as_the_page_does(demo_engine):
    chen, english = _clients(demo_engine)
    page = page_text(chen.get("/supervision"))
    table = page.split("整改情况", 1)[1]
    assert re.search(r"同改督〔2026〕2号，\d{4}年\d{1,2}月\d{1,2}日 送达，整改期限 \d{4}年\d{1,2}月\d{1,2}日", table)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 开始实施", table)
    assert not ISO_DAY.search(table), ISO_DAY.findall(table)
    in_english = page_text(english.get("/supervision"))
    assert re.search(r"served on \d{4}-\d{2}-\d{2}, to be rectified by \d{4}-\d{2}-\d{2}", in_english)


def test_a_date_entered_on_a_form_reads_on_the_trail_and_the_archive_as_the_page_does(demo_engine):
    chen, english = _clients(demo_engine)
    plans = {r["business_key"]: r["id"] for r in demo_engine.ledger()}
    plan_id = plans["DT-2015-09-LS"]
    page = page_text(chen.get(f"/plans/{plan_id}"))
    assert re.search(r"督察日期 = \d{4}年\d{1,2}月\d{1,2}日；", page)
    archive = page_text(chen.get(f"/plans/{plan_id}/archive"))
    assert re.search(r"督察日期 \d{4}年\d{1,2}月\d{1,2}日 督察方式", archive)
    assert re.search(r"督察日期 = \d{4}-\d{2}-\d{2}; ", page_text(english.get(f"/plans/{plan_id}")))
    assert re.search(r"督察日期 \d{4}-\d{2}-\d{2} ", page_text(english.get(f"/plans/{plan_id}/archive")))
    shown = CliRunner().invoke(main, ["--db", demo_engine.db.url, "history", str(plan_id)]).stdout
    assert re.search(r"督察日期 = \d{4}-\d{2}-\d{2}；", shown)


def test_the_stats_heading_and_a_delegation_write_their_days_as_the_page_does(demo_engine):
    from engine import clock
    chen, english = _clients(demo_engine)
    year = clock.today().year
    assert f"{year}年1月1日 至 {year}年12月31日 办结" in page_text(chen.get("/stats"))
    assert f"completed {year}-01-01 to {year}-12-31" in page_text(english.get("/stats"))
    today = clock.today()
    demo_engine.delegate("li", to="zhou", starts_on=today, ends_on=today, reason="出差", actor="li")
    zh_day = f"{today.year}年{today.month}月{today.day}日"
    assert f"于 {zh_day} 至 {zh_day} 代为办理" in page_text(signed_in_client(demo_engine, "zhou").get("/account"))
    assert f"from {today.isoformat()} to {today.isoformat()} (" in page_text(
        signed_in_client(demo_engine, "zhou", language="en").get("/account"))
