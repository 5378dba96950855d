"""What a person is told when a step they submit is already done: by their own first click (a
double submission, another tab) it says so and when, not that their page went stale and their
entries were lost; on a stopped plan, that the plan was stopped. Both were "changed elsewhere:
reload and try again", which helps with neither."""
from __future__ import annotations

import pytest

from engine.errors import Conflict

from .web_helper import open_task, signed_in_client


def _claimed_review(engine):
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    return engine.claim(review["id"], actor="li")


ANSWER = {"legalityResult": "pass", "legalityOpinion": "符合法律法规，同意提交审议。"}


def test_a_second_submission_of_one_s_own_step_says_it_was_submitted_and_when(demo_engine):
    claimed = _claimed_review(demo_engine)
    demo_engine.complete(claimed["id"], actor="li", data=ANSWER, expected_version=claimed["version"])
    with pytest.raises(Conflict) as again:
        demo_engine.complete(claimed["id"], actor="li", data=ANSWER, expected_version=claimed["version"])
    assert f"提交「合法合规性审查」（任务 {claimed['id']}），无需再次提交" in str(again.value)
    assert str(again.value).startswith("您已于 ")
    assert "请刷新后重试" not in str(again.value)


def test_on_the_web_the_second_post_goes_to_the_plan_saying_it_was_submitted(demo_engine):
    claimed = _claimed_review(demo_engine)
    client = signed_in_client(demo_engine, "li")
    form = {**ANSWER, "version": str(claimed["version"])}
    first = client.post(f"/tasks/{claimed['id']}/complete", data=form)
    second = client.post(f"/tasks/{claimed['id']}/complete", data=form)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"] == f"/plans/{claimed['instance_id']}"
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "无需再次提交" in page and "页面已过期" not in page


def test_submitting_on_a_stopped_plan_says_the_plan_was_stopped(demo_engine):
    claimed = _claimed_review(demo_engine)
    demo_engine.cancel_plan(claimed["instance_id"], reason="重复发起", actor="chen")
    with pytest.raises(Conflict) as refused:
        demo_engine.complete(claimed["id"], actor="li", data=ANSWER, expected_version=claimed["version"])
    assert f"方案 {claimed['instance_id']} 已终止，任务 {claimed['id']}「合法合规性审查」已撤销，无需再办理" in str(refused.value)


def test_the_stale_page_and_claimed_refusals_say_what_to_do_in_english_too(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    demo_engine.claim(review["id"], actor="li")
    with pytest.raises(Conflict) as claimed:
        demo_engine.add_user("li2", "李二", groups=["legal"], unit="市司法局")
        demo_engine.claim(review["id"], actor="li2")
    assert "ask li or the reform office to reassign it" in str(claimed.value)
    assert "请联系 li 或请改革办改派" in str(claimed.value)
    with pytest.raises(Conflict) as stale:
        demo_engine.unclaim(review["id"], actor="li", expected_version=review["version"])
    assert f"(task {review['id']} changed since you loaded it, by someone else or in another page: reload and try again)" \
        in str(stale.value)
