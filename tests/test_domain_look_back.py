"""The one-year look back (回头看) is the lead unit's to organise (seed 004 §16: 由牵头单位组织开展
"回头看") and the special group reviews it (seed 001 五（一）: 由专项小组会同牵头单位开展改革效果评估).
The lead unit had not been a candidate of its own look back: only the special group and the
reform office were."""
from __future__ import annotations

import pytest

from engine.errors import Invalid

from .test_implementation import _no_findings, _reported_all_done, _started, end_of


def test_the_lead_unit_records_the_look_back_and_the_special_group_reviews_it(library, at):
    plan = _started(library, at)
    _reported_all_done(plan, at)
    _no_findings(plan, at)
    assert plan.fire_timers_at(at, "2027-01-16T00:00:01") == ["Event_EvaluationDue"]
    assert plan.inbox() == {"Task_EvaluateEffects": ("zhang", end_of("2027-02-15"))}
    task = plan.task("Task_EvaluateEffects")  # no longer the special group's or the office's to record
    assert (task["candidate_groups"], task["lane"]) == (["drafter"], "牵头单位（起草人）")
    with at("2027-01-20T09:00:00"):
        plan.do("Task_EvaluateEffects", effectsSummary="预算绩效管理全面铺开", evaluationRating="effective")
        assert plan.inbox() == {"Task_ReviewEvaluation": ("special_group", None)}
        with pytest.raises(Invalid, match="evaluationReviewDecision"):  # no conclusion chosen for the reviewer
            plan.do("Task_ReviewEvaluation", evaluationReviewDecision="", evaluationReviewOpinion="")
        with pytest.raises(Invalid, match="evaluationReviewOpinion"):  # a return says why
            plan.do("Task_ReviewEvaluation", evaluationReviewDecision="return", evaluationReviewOpinion="")
        plan.do("Task_ReviewEvaluation", evaluationReviewDecision="return",
                evaluationReviewOpinion="成效须有绩效评价数据支撑")
        # back to the lead unit, with the special group's opinion on its form
        assert plan.inbox() == {"Task_EvaluateEffects": ("zhang", end_of("2027-02-15"))}
        view = library.task_view(plan.task("Task_EvaluateEffects")["id"])
        assert view["values"]["evaluationReviewOpinion"] == "成效须有绩效评价数据支撑"
        plan.do("Task_EvaluateEffects", effectsSummary="绩效评价覆盖率100%", evaluationRating="effective")
        plan.do("Task_ReviewEvaluation", evaluationReviewDecision="pass")
        assert plan.inbox() == {"Task_ClosePlan": ("reform_office", None)}
    assert plan.created.count("Task_EvaluateEffects") == 2
    assert plan.variables["effectsSummary"] == "绩效评价覆盖率100%"
