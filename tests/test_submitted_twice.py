"""What a person is told when a step they submit is already done: by their own first click (a
double submission, another tab) it says so and when, not that their page went stale and their
entries were lost; on a stopped plan, that the plan was stopped. Both were "changed elsewhere:
reload and try again", which helps with neither."""
from __future__ import annotations

import pytest

from playwright.sync_api import expect

from engine import display, forms
from engine.errors import Conflict

from .conftest import FIXTURES, read
from .plan_helper import audit_payloads
from .web_helper import open_task, sign_in, signed_in_client


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
    # when, as the Chinese pages write dates (2026年12月6日 09:51); the English half keeps ISO
    done = demo_engine.task_view(claimed["id"])["completed_at"]
    assert str(again.value).startswith(f"您已于 {display.minute(done, True)} 提交")
    assert f"(you already submitted “合法合规性审查” (task {claimed['id']}) at {display.minute(done)}:" in str(again.value)


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


# --------------------------------------------------------------------------------------------------
# The same step sent again with OTHER values (a second tab typed differently, the command line
# racing the web): those values were not kept, and "nothing more to do" would lose them in silence.

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"


@pytest.fixture
def drafted(engine, people):
    """zhang's 起草 of a mini_approval plan, submitted once: (the task as first claimed, the first data)."""
    engine.deploy([read(MINI)])
    plan = engine.start("mini_approval", actor="zhang", title="重复提交")
    task = plan["tasks"][0]
    first = {"summary": "第一稿：精简审批环节", "days": 15}
    engine.complete(task["id"], actor="zhang", data=first, expected_version=task["version"], comment="请审核")
    return task, first


def _again(engine, task, **kw) -> Conflict:
    with pytest.raises(Conflict) as refused:
        engine.complete(task["id"], actor="zhang", expected_version=task["version"], **kw)
    return refused.value


def test_the_same_values_sent_again_are_nothing_more_to_do(engine, drafted):
    task, first = drafted
    # as the command line sends them (JSON), as a web form posts them (text), a field left out,
    # the comment sent with them again or not at all
    for data, comment in ((first, "请审核"), ({"summary": "第一稿：精简审批环节", "days": "15"}, "请审核"),
                          ({"summary": "第一稿：精简审批环节"}, None)):
        again = _again(engine, task, data=data, comment=comment)
        assert again.reason == "already_yours"
        assert f"提交「起草」（任务 {task['id']}），无需再次提交" in str(again)
        assert str(again).endswith(": nothing more to do)")


def test_other_values_sent_again_are_refused_as_not_saved_naming_the_fields(engine, drafted):
    task, first = drafted
    again = _again(engine, task, data={"summary": "第二稿：另一个标签页里写的", "days": "15"})
    assert again.reason == "already_yours_differs"
    message = str(again)
    assert "无需再次提交" not in message and "nothing more to do" not in message
    assert message.startswith("您已于 ") and f"提交「起草」（任务 {task['id']}）；这次提交的「方案摘要」与当时提交的不同，没有保存" in message
    assert "「征求意见天数」" not in message  # the same days: not named
    assert message.endswith("what you sent now differs in “方案摘要” and was NOT saved: "
                            "see the plan's page for what was submitted)")
    assert [d["field"] for d in again.details] == ["summary"]
    # nothing of the second was kept: the first values stand, one completion on the trail
    completions = audit_payloads(engine, task["instance_id"], "task_completed")
    assert [c["new"]["summary"] for c in completions] == [first["summary"]]
    assert engine.task_view(task["id"])["values"]["summary"] == first["summary"]


def test_another_number_comment_or_file_sent_again_differs_too(engine, drafted):
    task, first = drafted
    days = _again(engine, task, data={**first, "days": 20})
    assert (days.reason, [d["field"] for d in days.details]) == ("already_yours_differs", ["days"])
    assert "「征求意见天数」与当时提交的不同" in str(days)
    comment = _again(engine, task, data=first, comment="另一条留言")
    assert comment.reason == "already_yours_differs" and "这次提交的留言与当时提交的不同" in str(comment)
    filed = _again(engine, task, data=first, files=[("意见汇总.txt", "新的附件".encode())])
    assert filed.reason == "already_yours_differs" and "附件「意见汇总.txt」" in str(filed)
    assert "the file “意见汇总.txt”" in str(filed)


def test_a_field_the_person_cannot_change_is_not_compared():
    fields = [{"id": "title", "label": "方案名称", "type": "string", "constraints": {"readonly": None},
               "properties": {}, "default": None, "options": []},
              {"id": "opinion", "label": "意见", "type": "string", "constraints": {}, "properties": {},
               "default": None, "options": []}]
    recorded = {"title": "甲方案", "opinion": "同意。\n请办理。"}
    assert forms.differing(fields, {"title": "乙方案", "opinion": "同意。\r\n请办理。"}, recorded) == []
    assert [f["id"] for f in forms.differing(fields, {"opinion": "不同意"}, recorded)] == ["opinion"]
    assert [f["id"] for f in forms.differing(fields, {"opinon": "同意"}, recorded)] == ["opinon"]  # a key no form kept


def test_a_second_tab_typed_differently_shows_what_it_typed_as_not_saved(live, page):
    """li opens the legality review in two tabs, submits from the first, then from the second with
    another opinion: the second is told its text was not saved, and sees it beside what was."""
    engine = live.app.extensions["reformflow"]
    review = _claimed_review(engine)
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    second = page.context.new_page()
    second.goto(f"{live.url}/tasks/{review['id']}")

    page.get_by_label("审查结论").select_option("pass")
    page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议。")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash.ok")).to_contain_text("已提交「合法合规性审查」")

    other = "第二个标签页：建议补充上位法依据后提交审议。"
    second.get_by_label("审查结论").select_option("pass")
    second.get_by_label("合法性审查意见").fill(other)
    second.get_by_label("留言").fill("第二个标签页的留言")
    second.get_by_role("button", name="提交").click()
    flash = second.locator(".flash.conflict")
    expect(flash).to_contain_text("这次提交的「合法性审查意见」、留言与当时提交的不同，没有保存")
    expect(flash).to_contain_text("当时提交的内容请在方案页查看")
    assert second.locator(".flash.ok").count() == 0
    # what it typed, kept to copy; what was submitted, beside it
    expect(second.locator("[data-kept-field='legalityOpinion']")).to_have_value(other)
    expect(second.locator("dd[data-field='legalityOpinion']")).to_contain_text("符合法律法规，同意提交审议。")
    expect(second.get_by_label("留言")).to_have_value("第二个标签页的留言")  # to post as a comment, if wanted
    assert "第二个标签页的留言" not in [c["new"]["text"] for c in audit_payloads(engine, review["instance_id"], "comment_added")]
    assert [c["new"]["legalityOpinion"] for c in audit_payloads(engine, review["instance_id"], "task_completed")
            if c["element_id"] == "Task_LegalityReview"] == ["符合法律法规，同意提交审议。"]
