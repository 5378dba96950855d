"""What a step's page says of the choice that opened it, and what it shows as 此前填写:

- the risk assessors' 提出方案调整要求 is a return like every other review's (its 评估结论 is asked
  to be confirmed, and the drafter's 起草方案 is marked 退回 with who, where, when and why);
- a confirmed choice that is no return (a meeting's 暂缓, a countersignature's 不同意: the field's
  `returns` property leaves it out) is told as that decision, not as 退回修改, and marks no inbox row;
- 此前填写 is only what the same step wrote on an earlier round, never another step's value of a
  variable they share (returnReason, the meetings' 会议日期);
- a bound written as an expression is said in English as in Chinese, never as the expression."""
from __future__ import annotations

import pytest

from engine import forms, task_page
from engine.errors import Invalid
from engine.history import load_trail

from web.i18n import split

from .plan_helper import Plan

RISK_REASON = "补偿标准过低，易引发群体性事件，须提高后重新评估"


def _opened_by(engine, task_id: int) -> tuple[dict | None, bool]:
    """(returned_by of the step, whether its inbox row is marked 退回), as the web reads them."""
    view = engine.task_view(task_id)
    with engine.db.reader() as s:
        trail = load_trail(s, view["instance_id"], kinds=task_page.PAGE_EVENTS)
        return task_page.returned_by(s, trail, task_id), task_id in task_page.returned(s, [view])


def _risk_returned(library) -> Plan:
    plan = Plan(library)
    plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan={"riskAssessmentRequired": True})
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    return plan


def test_the_risk_assessors_request_for_adjustment_is_a_return_to_the_drafter(library):
    plan = _risk_returned(library)
    request = library.task_view(plan.task("Task_RequestAdjustment")["id"])
    # the assessor is asked to confirm, as at every other review that sends a plan back
    asked = forms.to_confirm(request["form"], request["values"])
    assert [(a["field"], a["name"], a["returns"]) for a in asked] == [("adjustmentDecision", "退回起草单位调整方案", True)]
    assert "调整后重新进行风险评估" in asked[0]["text"]
    plan.do("Task_RequestAdjustment", returnReason=RISK_REASON)
    assert plan.active == ["Task_DraftPlan"]

    returned, marked = _opened_by(library, plan.task("Task_DraftPlan")["id"])
    assert marked  # 退回 beside 起草方案 in the drafter's inbox
    assert returned["is_return"] and returned["name"] == "提出方案调整要求"
    assert [(c["label"], c["name"]) for c in returned["chosen"]] == [("评估结论", "退回起草单位调整方案")]
    assert {"field": "returnReason", "value": RISK_REASON} in [
        {"field": v["field"], "value": v["value"]} for v in returned["values"]]


def test_a_risk_return_is_no_earlier_entry_of_the_special_groups_review(library):
    """returnReason is the risk assessors' and the 专项小组's: sun's first review starts empty, and
    says nothing was entered there before."""
    plan = _risk_returned(library)
    plan.do("Task_RequestAdjustment", returnReason=RISK_REASON)
    plan.run_until("Task_SpecialGroupReview")
    review = library.task_view(plan.task("Task_SpecialGroupReview")["id"])
    assert review["values"]["returnReason"] is None
    assert review["earlier"] == {}


def test_a_deferral_is_told_as_a_deferral_not_as_a_return(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", decision="defer")
        assert plan.active == ["Task_DeferredRetable"]
        returned, marked = _opened_by(library, plan.task("Task_DeferredRetable")["id"])
    assert not marked  # no 退回 in the reform office's inbox: nothing is to be redone
    assert returned["is_return"] is False and returned["name"] == "记录领导小组会议审议"
    assert [(c["label"], c["name"], c["returns"]) for c in returned["chosen"]] == [("会议决定", "暂缓", False)]


def test_a_countersignature_refused_is_told_as_such_not_as_a_return(library):
    plan = Plan(library)
    plan.run_until("Task_Countersign")
    plan.do("Task_Countersign", decision="reject", dissent="市财政局不同意")
    returned, marked = _opened_by(library, plan.task("Task_HandOverArchive")["id"])
    assert not marked
    assert returned["is_return"] is False
    assert [(c["label"], c["name"]) for c in returned["chosen"]] == [("会签结论", "不同意")]


def test_a_meetings_revise_is_still_a_return(library):
    plan = Plan(library)
    plan.run_until("Task_Countersign")
    plan.do("Task_Countersign", decision="revise", returnReason="第三部分需细化")
    returned, marked = _opened_by(library, plan.task("Task_DraftPlan")["id"])
    assert marked and returned["is_return"]


def test_a_field_without_returns_counts_every_confirmed_choice_a_return():
    """A diagram written before `returns` (or one that needs none): every `confirm` value is a return."""
    field = {"id": "d", "type": "enum", "label": "结论", "properties": {"confirm": "back, stop"},
             "options": [{"id": "ok", "name": "通过"}, {"id": "back", "name": "退回"}, {"id": "stop", "name": "终止"}]}
    assert forms.return_ids(field["properties"]) == ["back", "stop"]
    assert forms.return_ids({**field["properties"], "returns": "back"}) == ["back"]
    assert forms.to_confirm([field], {"d": "stop"})[0]["returns"] is True
    field["properties"]["returns"] = "back"
    assert forms.to_confirm([field], {"d": "stop"})[0]["returns"] is False


def test_the_standing_committee_does_not_show_the_government_meetings_record_as_its_own(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan={"partyDocument": True, "governmentDuties": True},
                       Task_LeadershipGroupMeeting={"meetingDate": "2026-03-05"})  # before the government meeting
        plan.do("Task_GovExecutiveMeeting", meetingDate="2026-03-06", attendees="政府常务会议组成人员")
        first = library.task_view(plan.task("Task_StandingCommittee")["id"])
        assert first["earlier"] == {}  # its first round: nothing of its own before
        plan.do("Task_StandingCommittee", meetingDate="2026-03-09", attendees="常委会组成人员",
                standingCommitteeDecision="revise", returnReason="第三部分需细化")
        plan.run_until("Task_GovExecutiveMeeting")
        plan.do("Task_GovExecutiveMeeting", meetingDate="2026-03-10", attendees="政府常务会议组成人员（二）")
        again = library.task_view(plan.task("Task_StandingCommittee")["id"])
    # its own first round, not the government meeting's values entered since
    assert again["earlier"]["meetingDate"] == "2026-03-09"
    assert again["earlier"]["attendees"] == "常委会组成人员"


def test_an_expression_bound_is_said_in_english_as_in_chinese(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        with pytest.raises(Invalid) as future:
            plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-11")
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-05", decision="defer")
        with pytest.raises(Invalid) as early:
            plan.do("Task_DeferredRetable", retableDate="2026-03-04")
    assert split(future.value.details[0]["message"]) == (
        "「会议日期」(meetingDate) 不得晚于 2026-03-10（今天）", "“会议日期” not after 2026-03-10 (today)")
    zh, en = split(early.value.details[0]["message"])
    assert zh.startswith("「重新提请审议日期」(retableDate) 不得早于 2026-03-05（")
    assert en.startswith("“重新提请审议日期” not before 2026-03-05 (“") and "${" not in en
