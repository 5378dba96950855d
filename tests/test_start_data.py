"""What start data may give: the fields of the starter's own steps (确认方案任务信息's category,
its routing switches) and what the process reads that no step sets (a filing started alone:
its issue date), never what a later step's handler enters. Given at start, the office's new
filing deadline made an overdue filing show green, and a standing committee's "reject" ended an
approved ordinary plan as rejected by a meeting that never sat."""
from __future__ import annotations

import pytest

from engine.errors import Invalid

from .plan_helper import deploy_library


@pytest.mark.parametrize("name, value, step", [("newDeadline", "2027-06-30", "逾期未备案处理"),
                                               ("standingCommitteeDecision", "reject", "常委会议审定"),
                                               ("legalityResult", "pass", "合法合规性审查")])
def test_start_data_may_not_give_what_a_later_step_s_handler_enters(engine, people, name, value, step):
    deploy_library(engine)
    with pytest.raises(Invalid) as refused:
        engine.start("reform_plan", actor="zhang", data={"category": "major", name: value})
    assert str(refused.value).startswith(f"{name}（「{step}」） 由后面步骤的办理人填写，启动时不能指定")


def test_the_starter_s_own_fields_and_what_no_step_sets_are_still_given(engine, people):
    deploy_library(engine)
    plan = engine.start("reform_plan", actor="zhang", data={"category": "major", "touchesPublicInterest": True})
    assert engine.instance(plan["id"])["variables"]["touchesPublicInterest"] is True
    filing = engine.start("filing", actor="chen", data={"issueDate": "2026-01-31", "pilot": False})
    assert engine.instance(filing["id"])["variables"]["issueDate"] == "2026-01-31"
