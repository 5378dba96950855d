"""A meeting's date is not before the plan's previous meeting (deliberation.bpmn's 会议日期,
`min` `${previous('meetingDate')}`): the standing committee not before the government executive
meeting that came first, a meeting held again after 再次讨论 or 暂缓 not before the one before it,
a new round after 退回修改 not before the last round's. The refusal names the earlier meeting (the
step that recorded it) and its date, in Chinese and English; its day itself is accepted."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from engine import display
from engine.errors import Invalid

from .plan_helper import Plan
from .web_helper import open_task, sign_in, signed_in_client

PARTY_DOCUMENT = {"category": "major", "partyDocument": True, "governmentDuties": True}


def _refused(plan: Plan, element: str, day: str, **data) -> str:
    with pytest.raises(Invalid) as refused:
        plan.do(element, meetingDate=day, **data)
    assert [d["field"] for d in refused.value.details] == ["meetingDate"]
    return refused.value.details[0]["message"]


def test_the_standing_committee_meets_after_the_government_executive_meeting(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan=PARTY_DOCUMENT,
                       Task_LeadershipGroupMeeting={"meetingDate": "2026-03-02"})
        assert _refused(plan, "Task_GovExecutiveMeeting", "2026-03-01") == (
            "「会议日期」(meetingDate) 不得早于 2026-03-02（此前「记录领导小组会议审议」记录的会议日期） "
            "(“会议日期” not before 2026-03-02 (the “会议日期” recorded at “记录领导小组会议审议”))")
        plan.do("Task_GovExecutiveMeeting", meetingDate="2026-03-06")
        page = library.task_view(plan.task("Task_StandingCommittee")["id"])
        assert page["bounds"]["meetingDate"] == {
            "min": "2026-03-06", "max": "2026-03-10",
            "min_from": "此前「政府常务会议审议」记录的会议日期 (the “会议日期” recorded at “政府常务会议审议”)"}
        assert _refused(plan, "Task_StandingCommittee", "2026-03-05") == (
            "「会议日期」(meetingDate) 不得早于 2026-03-06（此前「政府常务会议审议」记录的会议日期） "
            "(“会议日期” not before 2026-03-06 (the “会议日期” recorded at “政府常务会议审议”))")
        plan.do("Task_StandingCommittee", meetingDate="2026-03-06")  # the same day will do
    assert plan.variables["meetingDate"] == "2026-03-06"


def test_a_meeting_discussing_the_plan_again_is_not_before_the_one_before(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        assert "min" not in library.task_view(plan.task("Task_LeadershipGroupMeeting")["id"])["bounds"]["meetingDate"]
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-04", decision="discuss_again")
        assert "2026-03-04（此前「记录领导小组会议审议」记录的会议日期）" in _refused(
            plan, "Task_LeadershipGroupMeeting", "2026-03-03")
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-04")


def test_a_deferred_plan_meets_again_not_before_the_meeting_that_deferred_it(library, at):
    """The retable date is planned, not a bound of the meeting: a meeting may be brought forward."""
    with at("2026-03-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-09", decision="defer")
        plan.do("Task_DeferredRetable", retableDate="2026-03-16")
        plan.run_until("Task_LeadershipGroupMeeting")
        zh_en = _refused(plan, "Task_LeadershipGroupMeeting", "2026-03-08")
        assert zh_en.startswith("「会议日期」(meetingDate) 不得早于 2026-03-09（此前「记录领导小组会议审议」记录的会议日期）")
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-12")  # before the planned 16 March
    assert plan.variables["meetingDate"] == "2026-03-12"


def test_the_government_meeting_held_again_after_deferring_follows_its_first_sitting(library, at):
    with at("2026-03-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan=PARTY_DOCUMENT,
                       Task_LeadershipGroupMeeting={"meetingDate": "2026-03-02"})
        plan.do("Task_GovExecutiveMeeting", meetingDate="2026-03-06", govMeetingDecision="defer")
        plan.do("Task_GovMeetingRetable", retableDate="2026-03-13")
        assert "2026-03-06（此前「政府常务会议审议」记录的会议日期）" in _refused(plan, "Task_GovExecutiveMeeting", "2026-03-05")
        plan.do("Task_GovExecutiveMeeting", meetingDate="2026-03-06")


def test_a_new_round_after_revision_meets_after_the_last_rounds_meeting(library, at):
    with at("2026-03-20T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-09", decision="revise", returnReason="第二部分需细化")
        plan.run_until("Task_LeadershipGroupMeeting")
        assert "2026-03-09（此前「记录领导小组会议审议」记录的会议日期）" in _refused(
            plan, "Task_LeadershipGroupMeeting", "2026-03-01")
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-18")


def test_the_meeting_form_says_the_earlier_meeting_and_refuses_a_date_before_it(live, page):
    """The demo's party document (DT-2015-06) waits at 常委会议审定, after its government executive
    meeting: the date field says from when, naming that meeting, and a day before it is refused."""
    engine = live.app.extensions["reformflow"]
    meeting = open_task(engine, "DT-2015-06", "Task_StandingCommittee")
    held = engine.task_view(meeting["id"])["bounds"]["meetingDate"]["min"]
    engine.claim(meeting["id"], actor="lin")
    sign_in(page, live, "lin")
    page.goto(f"{live.url}/tasks/{meeting['id']}")
    said = display.day(held, True)  # as the page writes its dates: 2026年10月27日
    expect(page.locator("#f-meetingDate-hint")).to_contain_text(f"{said}（此前「政府常务会议审议」记录的会议日期） 至 ")
    expect(page.locator("#f-meetingDate")).to_have_attribute("min", held)
    page.locator("#f-meetingDate").fill((date.fromisoformat(held) - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.locator("#f-meetingDate-problem-1")).to_contain_text(
        f"不得早于 {held}（此前「政府常务会议审议」记录的会议日期）")
    assert engine.task_view(meeting["id"])["status"] == "claimed"  # not submitted


def test_an_english_page_says_the_earlier_meeting_in_english(demo_engine):
    meeting = open_task(demo_engine, "DT-2015-06", "Task_StandingCommittee")
    demo_engine.claim(meeting["id"], actor="lin")
    page = signed_in_client(demo_engine, "lin", language="en").get(f"/tasks/{meeting['id']}").get_data(as_text=True)
    hint = re.search(r'<p class="hint field-hint" id="f-meetingDate-hint">([^<]+)</p>', page).group(1)
    assert "(the “会议日期” recorded at “政府常务会议审议”)" in html.unescape(hint) and "此前" not in hint
