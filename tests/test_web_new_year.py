"""The web inbox on the first working days of a year whose holidays nobody has entered yet (2027,
which the calendar package does not know): what the office sees when it enters the year's first
day, and where a deadline counted over the statutory holidays by law is marked 暂定."""
from __future__ import annotations

import io
import json
from datetime import date

from .plan_helper import Plan
from .test_reform_plan import library  # noqa: F401 - the process library, deployed
from .web_helper import page_text, signed_in_client

PASSWORD = "correct horse battery"


def _chen(engine):
    engine.set_password("chen", PASSWORD, actor="chen", first=True)
    return signed_in_client(engine, "chen", PASSWORD, language="zh")


def test_the_first_day_entered_on_the_calendar_page_moves_a_deadline_across_a_guessed_make_up_day(library, at):  # noqa: F811
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
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-02-16T16:00:00+00:00"


def test_the_ledger_and_the_overview_mark_a_provisional_deadline_as_the_inbox_does(library, at):  # noqa: F811
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
        english = signed_in_client(library, "chen", PASSWORD, language="en")
        assert "2027-02-16 provisional (No holidays are entered for 2027 yet" in page_text(english.get("/ledger?year=2027"))
        library.set_calendar_day(date(2027, 1, 1), working=False, note="元旦", actor="chen")
        # 2027 entered: no longer provisional anywhere (the deadline itself stays: nothing recounted here)
        assert "暂定" not in page_text(chen.get("/ledger?year=2027"))
        assert "暂定" not in page_text(chen.get("/overview")).split("即将到期的环节", 1)[1]


def test_a_file_of_a_years_first_days_imported_on_the_page_warns_as_the_command_does(library, at):  # noqa: F811
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
