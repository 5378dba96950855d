"""The task page and the inbox after a confirmed choice (docs/users.md 0.2, 0.4): the risk
assessors' request for adjustment is asked to be confirmed and shows as 退回 with its 退回修改 panel
to the drafter, in a real browser; a meeting's 暂缓 and a countersignature's 不同意 are told as
those decisions, not as 退回修改 / "Returned for revision"; 此前填写 is the same step's own."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .plan_helper import Plan
from .web_helper import page_text, sign_in, signed_in_client

RISK = {"riskAssessmentRequired": True}
REASON = "补偿标准过低，须提高后重新评估"


def _at_risk_request(engine) -> Plan:
    plan = Plan(engine, title="深化征地补偿制度改革方案")
    plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan=RISK)
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    return plan


def _row(html: str, task_id: int) -> str:
    found = re.search(rf'<tr[^>]*data-task="{task_id}".*?</tr>', html, re.S)
    assert found, task_id
    return found.group(0)


def test_a_risk_return_is_confirmed_and_shown_to_the_drafter_as_a_return(live, page):
    engine = live.app.extensions["reformflow"]
    plan = _at_risk_request(engine)
    request = plan.task("Task_RequestAdjustment")
    sign_in(page, live, "zhou")
    page.goto(f"{live.url}/tasks/{request['id']}")
    if page.get_by_role("button", name="认领").count():
        page.get_by_role("button", name="认领").click()
    page.get_by_label("须调整的内容及理由（调整后重新评估）").fill(REASON)
    page.get_by_role("button", name="提交").click()
    # asked first, as at every other review that sends a plan back
    question = page.locator("section.confirm")
    expect(question.locator("[data-asked='adjustmentDecision']")).to_contain_text("退回起草单位调整方案")
    expect(question).to_contain_text("调整后重新进行风险评估")
    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("section.confirm")).to_have_count(0)
    draft = plan.task("Task_DraftPlan")

    page.context.clear_cookies()
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks?scope=all")
    row = page.locator(f"tr[data-task='{draft['id']}']")
    expect(row.locator(".returned-mark")).to_have_text("退回")
    page.goto(f"{live.url}/tasks/{draft['id']}")
    panel = page.locator("section.returned")
    expect(panel).to_have_attribute("data-kind", "return")
    expect(panel.get_by_role("heading")).to_have_text("退回修改")
    expect(panel).to_contain_text("在「提出方案调整要求」退回")
    expect(panel).to_contain_text("评估结论：退回起草单位调整方案")
    expect(panel).to_contain_text(REASON)


def test_a_deferral_is_not_called_a_return(demo_engine):
    plan = Plan(demo_engine, title="深化国资监管改革方案")
    plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
    plan.do("Task_LeadershipGroupMeeting", decision="defer")
    retable = plan.task("Task_DeferredRetable")
    chen = signed_in_client(demo_engine, "chen")
    inbox = chen.get("/tasks?scope=all").get_data(as_text=True)
    assert "退回" not in re.sub(r"<[^>]+>", " ", _row(inbox, retable["id"]))
    answer = chen.get(f"/tasks/{retable['id']}")
    page = answer.get_data(as_text=True)
    panel = re.search(r'<section class="returned".*?</section>', page, re.S).group(0)
    assert 'data-kind="decision"' in panel
    said = re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", panel))
    assert "会议决定：暂缓" in said and "在「记录领导小组会议审议」决定：" in said
    assert "退回" not in said


def test_a_refused_countersignature_is_not_returned_for_revision_in_english(demo_engine):
    plan = Plan(demo_engine, title="深化政务公开改革方案")
    plan.run_until("Task_Countersign")
    plan.do("Task_Countersign", decision="reject", dissent="市财政局不同意")
    archive = plan.task("Task_HandOverArchive")
    zhang = signed_in_client(demo_engine, "zhang", language="en")
    html = zhang.get(f"/tasks/{archive['id']}").get_data(as_text=True)
    panel = re.search(r'<section class="returned".*?</section>', html, re.S).group(0)
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel))
    assert 'data-kind="decision"' in panel
    assert "Returned for revision" not in said and "Decided by" in said
    assert re.search(r"会签结论\s*:\s*不同意", said), said


def test_the_special_groups_first_review_shows_no_risk_reason_as_its_own(demo_engine):
    plan = _at_risk_request(demo_engine)
    plan.do("Task_RequestAdjustment", returnReason=REASON)
    plan.run_until("Task_SpecialGroupReview")
    review = plan.task("Task_SpecialGroupReview")
    sun = signed_in_client(demo_engine, "sun")
    html = sun.get(f"/tasks/{review['id']}").get_data(as_text=True)
    # the risk assessors' reason is never under 退回理由 as 此前填写; nor in 送审材料一览 any more, where
    # round 2's assessment (low risk) superseded round 1's request (the decision archive keeps it)
    assert 'class="earlier"' not in html
    text = page_text(sun.get(f"/tasks/{review['id']}"))
    assert REASON not in text and "登记随决策附带的风险防控措施" in text
