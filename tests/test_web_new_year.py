"""The web inbox on the first working days of a year whose holidays nobody has entered yet (2027,
which the calendar package does not know): what the office sees when it enters the year's first
day, and where a deadline counted over the statutory holidays by law is marked 暂定."""
from __future__ import annotations

import io
import json
from datetime import date

from .plan_helper import Plan
from .web_helper import page_text, signed_in_client

PASSWORD = "correct horse battery"


def _chen(engine):
    engine.set_password("chen", PASSWORD, actor="chen", first=True)
    return signed_in_client(engine, "chen", PASSWORD, language="zh")


def test_the_first_day_entered_on_the_calendar_page_moves_a_deadline_across_a_guessed_make_up_day(library, at):
    """A legality review opened on 20 January 2027 skips 9–10 February, the make-up days of 春节 the
    law guesses while 2027 is not entered: due Tue 16 February. 1 January entered on the page makes
    2027 entered, those days working days: the review is due Fri 12 February, and the page says so.
    (It stayed due the 16th, no longer 暂定: only steps opened before 1 January were counted again.)"""
    with at("2027-01-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-02-16T16:00:00+00:00"
    with at("2027-01-21T09:00:00"):
        chen = _chen(library)
        answer = chen.post("/calendar/2027/day", data={"day": "2027-01-01", "action": "off", "note": "元旦", "seen": "{}"})
        assert answer.status_code == 200
        said = page_text(answer)
        assert "以下待办期限因此重新计算" in said and "期限 2027年2月16日 → 2027年2月12日" in said
        assert plan.task("Task_LegalityReview")["due_at"] == "2027-02-12T16:00:00+00:00"
        taken_back = page_text(chen.post("/calendar/2027/day", data={
            "day": "2027-01-01", "action": "remove", "seen": '{"2027-01-01": [false, "元旦"]}'}))
        assert "期限 2027年2月12日 → 2027年2月16日" in taken_back
        assert "2027 年已没有录入的日子：该年又算作未录入，工作日期限重新标为暂定，按法律推定的补假重新计入，" \
               "所有按工作日计算的未办结待办期限已重新计算。" in taken_back
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-02-16T16:00:00+00:00"


def test_the_ledger_and_the_overview_mark_a_provisional_deadline_as_the_inbox_does(library, at):
    """The overview said "1 个未办结环节…标为“暂定”", the inbox marked the step, but the ledger (台账)
    and the overview's own lists showed its deadline as firm."""
    with at("2027-01-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    with at("2027-02-10T09:00:00"):  # four working days before the review's deadline: due soon
        chen = _chen(library)
        inbox = page_text(chen.get("/tasks"))
        assert "2027年2月16日 暂定" in inbox
        ledger = page_text(chen.get("/ledger?year=2027"))
        assert "合法合规性审查（待认领：法制机构） · 期限 2027年2月16日 暂定 （2027 年节假日安排尚未录入" in ledger
        overview = page_text(chen.get("/overview"))
        assert "标为“暂定”" in overview
        soon = overview.split("即将到期的环节", 1)[1]
        assert "合法合规性审查" in soon and "2027年2月16日 暂定 （2027 年节假日安排尚未录入" in soon
        # and the 台账 file downloaded from the page, as a reform office hands it on
        download = chen.get("/ledger.csv?year=2027").get_data().decode("utf-8-sig")
        assert "2027-02-16（暂定）" in download, download[-400:]
        english = signed_in_client(library, "chen", PASSWORD, language="en")
        assert "2027-02-16 provisional (No holidays are entered for 2027 yet" in page_text(english.get("/ledger?year=2027"))
        library.set_calendar_day(date(2027, 1, 1), working=False, note="元旦", actor="chen")
        # 2027 entered: no longer provisional anywhere (the deadline itself stays: nothing recounted here)
        assert "暂定" not in page_text(chen.get("/ledger?year=2027"))
        assert "暂定" not in chen.get("/ledger.csv?year=2027").get_data().decode("utf-8-sig")
        assert "暂定" not in page_text(chen.get("/overview")).split("即将到期的环节", 1)[1]


def test_a_file_of_a_years_first_days_imported_on_the_page_warns_as_the_command_does(library, at):
    """`calendar import` warns that a year's first file makes it count as entered; the page
    imported the Spring Festival alone and said nothing, while 3–4 May and 4–5 October, guessed
    make-up days, silently became working days."""
    spring = "日期,安排,说明\n2027-02-06..2027-02-09,放假,春节\n".encode("utf-8")
    with at("2027-01-04T09:00:00"):
        chen = _chen(library)
        first = page_text(chen.post("/calendar/2027/import", data={"schedule": (io.BytesIO(spring), "2027.csv"),
                                                                   "seen": "{}"}, content_type="multipart/form-data"))
        assert "已从 2027.csv 录入 4 天" in first
        assert "这是 2027 年首次录入：该年从此算作已录入，工作日期限不再标为暂定，按法律推定的补假也不再计入。" in first
        assert "按法律推定的补假" not in first.split("放假和调休", 1)[1]  # 3–4 May, 4–5 October no longer listed
        entered_2027 = {f"2027-02-0{d}": [False, "春节"] for d in range(6, 10)}
        more = "日期,安排,说明\n2027-05-01..2027-05-05,放假,劳动节\n".encode("utf-8")
        again = page_text(chen.post("/calendar/2027/import", data={"schedule": (io.BytesIO(more), "2027-may.csv"),
                                                                   "seen": json.dumps(entered_2027)},
                                    content_type="multipart/form-data"))
        assert "已从 2027-may.csv 录入 5 天" in again and "首次录入" not in again
        english = signed_in_client(library, "chen", PASSWORD, language="en")
        october = "日期,安排,说明\n2028-10-01..2028-10-03,放假,国庆节\n".encode("utf-8")
        said = page_text(english.post("/calendar/2028/import", data={"schedule": (io.BytesIO(october), "2028.csv"),
                                                                      "seen": "{}"},
                                      content_type="multipart/form-data"))
        assert "The first days entered for 2028: the year now counts as entered" in said
        # a file of another year imported on this year's page: the table below is not that year's
        other = page_text(chen.post("/calendar/2027/import", data={"schedule": (io.BytesIO(
            "日期,安排,说明\n2029-01-01,放假,元旦\n".encode("utf-8")), "2029.csv"), "seen": "{}"},
            content_type="multipart/form-data"))
        assert "这是 2029 年首次录入" in other and "请打开 2029 年的日历核对" in other
        assert "请核对下表" not in other


# The year's schedule as a file: more than the page enters unseen (web/reports.py CONFIRM_ABOVE), so it is shown first.
SCHEDULE_2027 = ("日期,安排,说明\n2027-01-01,放假,元旦\n2027-02-06..2027-02-13,放假,春节\n2027-02-14,上班,春节调休\n"
                 "2027-05-01..2027-05-05,放假,劳动节\n").encode("utf-8")


def _preview(client, year: int, content: bytes, seen: dict) -> str:
    return page_text(client.post(f"/calendar/{year}/import", data={"schedule": (io.BytesIO(content), f"{year}.csv"),
                                                                     "seen": json.dumps(seen)},
                                 content_type="multipart/form-data"))


def test_the_import_confirmation_says_what_each_day_counts_as_now_and_that_every_deadline_is_counted_again(library, at):
    """QA walk on 4 January 2027: the confirmation of 2027's schedule said 1 January and 3 May,
    a statutory holiday by law and a make-up day the law guesses, were 现为 未录入; and that only
    the deadlines crossing these days would be counted again, while the year's first entry counts
    every open working-day deadline again (its guessed make-up days stop counting)."""
    with at("2027-01-04T09:00:00"):
        chen = _chen(library)
        first = _preview(chen, 2027, SCHEDULE_2027, {})
        assert "确认录入 2027.csv" in first and "未录入" not in first.split("确认录入", 1)[1].split("取消", 1)[0]
        page = chen.post("/calendar/2027/import", data={"schedule": (io.BytesIO(SCHEDULE_2027), "2027.csv"),
                                                          "seen": "{}"}, content_type="multipart/form-data")
        html = page.get_data(as_text=True)
        assert _cell(html, "2027-01-01") == "放假（法定节假日（依法） · 元旦）"
        assert _cell(html, "2027-05-03") == "放假（按法律推定的补假 · 劳动节补假）"
        assert _cell(html, "2027-02-14") == "周末休息日"  # a Sunday, nothing about it by law
        assert _cell(html, "2027-02-09") == "放假（按法律推定的补假 · 春节补假）"
        assert _cell(html, "2027-02-11") == "平常工作日"  # a Thursday of the Spring Festival's week, a working day by law
        assert "这是 2027 年首次录入：录入后该年从此算作已录入，按法律推定的补假不再计入，所有按工作日计算的未办结待办期限都将重新计算" in first
        assert "跨过这些日子的待办期限将重新计算" not in first
        english = signed_in_client(library, "chen", PASSWORD, language="en")
        answer = english.post("/calendar/2027/import", data={
            "schedule": (io.BytesIO(SCHEDULE_2027), "2027.csv"), "seen": "{}"}, content_type="multipart/form-data")
        said = page_text(answer)
        assert "the first days entered for 2027" in said and "every open deadline counted in working days" in said
        assert _cell(answer.get_data(as_text=True), "2027-02-14") == "day off (weekend)"
        # entered, a file for the rest of the year is only a change of these days: only deadlines across them move
        library.set_calendar_day(date(2027, 1, 1), working=False, note="元旦", actor="chen")
        autumn = ("日期,安排,说明\n2027-10-01..2027-10-07,放假,国庆节\n").encode("utf-8")
        later = _preview(chen, 2027, autumn, {"2027-01-01": [False, "元旦"]})
        assert "录入后跨过这些日子的待办期限将重新计算" in later and "首次录入" not in later
        # 4 October, a make-up day while 2027 was not entered, is now a plain working day
        later_html = chen.post("/calendar/2027/import", data={"schedule": (io.BytesIO(autumn), "2027.csv"),
                                                                "seen": json.dumps({"2027-01-01": [False, "元旦"]})},
                               content_type="multipart/form-data").get_data(as_text=True)
        assert _cell(later_html, "2027-10-04") == "平常工作日"
        assert _cell(later_html, "2027-10-01") == "放假（法定节假日（依法） · 国庆节）"
        # in English the column reads alike for every day (it mixed "day off (…)" with "a working day")
        english = signed_in_client(library, "chen", PASSWORD, language="en")
        english_html = english.post("/calendar/2027/import", data={"schedule": (io.BytesIO(autumn), "2027.csv"),
                                                                   "seen": json.dumps({"2027-01-01": [False, "元旦"]})},
                                    content_type="multipart/form-data").get_data(as_text=True)
        assert _cell(english_html, "2027-10-04") == "working day (weekday)"
        assert _cell(english_html, "2027-10-01").startswith("day off (")


def _cell(html: str, day: str) -> str:
    """The 现为 cell of the confirmation's row for `day`, the row's date written as its page
    writes dates (2027年1月1日 on a Chinese page, 2027-01-01 on an English one)."""
    import re
    d = date.fromisoformat(day)
    shown = day if '<html lang="en"' in html else f"{d.year}年{d.month}月{d.day}日"
    row = re.search(rf'<tr data-day="{day}"><td>{shown}</td><td>(.*?)</td>', html)
    assert row is not None, day
    return re.sub(r"\s+", " ", row.group(1)).strip()


def test_the_csv_example_on_a_later_years_calendar_page_uses_that_years_dates(library, at):
    """The 2028 page showed 2027-01-01,放假,元旦 as its example: copied, it enters 2027."""
    with at("2027-01-04T09:00:00"):
        chen = _chen(library)
        said = page_text(chen.get("/calendar/2028"))
        example = said.split("导入全年放假安排", 1)[1]
        assert "2028-01-01,放假,元旦" in example and "2028-02-06..2028-02-13,放假,春节" in example
        assert "日期也可写作 2028/2/6 或 2028年2月6日" in example
        assert "2027" not in example
