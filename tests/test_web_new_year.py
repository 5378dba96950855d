"""The web inbox on the first working days of a year whose holidays nobody has entered yet (2027,
which the calendar package does not know): what the office sees when it enters the year's first
day, and where a deadline counted over the statutory holidays by law is marked 暂定."""
from __future__ import annotations

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
