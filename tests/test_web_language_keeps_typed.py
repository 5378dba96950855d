"""Switching the language on a half-filled page keeps what was typed (web/static/keep_typed.js):
a legality reviewer's opinion, her choice and her comment come back in the English page, and
again in the Chinese one, with a note saying so; a password never does. And what a reviewer reads
in 送审材料一览 after the plan was adjusted and assessed again: the latest draft, the special
group's review and round 2's risk assessment, not round 1's request. In a real browser."""
from __future__ import annotations

from playwright.sync_api import expect

from .plan_helper import Plan
from .web_helper import open_task, sign_in

OPINION = "经审查，方案第三条关于收费的规定缺乏上位法依据，建议删除或报请授权。"


def _engine(live):
    return live.app.extensions["reformflow"]


def test_a_half_filled_step_keeps_its_words_across_both_language_switches(live, page):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_label("审查结论").select_option("pass_with_changes")
    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("留言").fill("请起草人补充收费依据")
    expect(page.locator("[data-typed-kept]")).to_have_count(0)
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live.url}/tasks/{review['id']}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("textarea[name='legalityOpinion'], input[name='legalityOpinion']")).to_have_value(OPINION)
    expect(page.locator("select[name='legalityResult']")).to_have_value("pass_with_changes")
    expect(page.locator("textarea[name='plan-comment']")).to_have_value("请起草人补充收费依据")
    expect(page.locator("[data-typed-kept]")).to_have_text(
        "What you typed before switching the language has been kept (not submitted, not saved).")
    # typed on in English, then back to Chinese: kept again
    page.locator("textarea[name='legalityOpinion'], input[name='legalityOpinion']").fill(OPINION + "另，第五条须修改。")
    page.get_by_role("button", name="中文").click()
    page.wait_for_url(f"{live.url}/tasks/{review['id']}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_label("合法性审查意见")).to_have_value(OPINION + "另，第五条须修改。")
    expect(page.get_by_label("审查结论")).to_have_value("pass_with_changes")
    expect(page.locator("[data-typed-kept]")).to_have_text("已保留您切换语言前填写的内容（尚未提交，也未保存）。")
    # once only: opened again, the page is as the server sends it (nothing was saved)
    page.goto(f"{live.url}/tasks/{review['id']}")
    expect(page.get_by_label("合法性审查意见")).to_have_value("")
    expect(page.locator("[data-typed-kept]")).to_have_count(0)
    assert engine.task_view(review["id"])["status"] == "claimed"  # nothing submitted by the switch


# what the page gives sessionStorage, copied where a reload keeps it: the script removes its entry
# as soon as the next page reads it, so sessionStorage itself is empty when a test looks
RECORD_STORED = """(() => {
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    if (this === window.sessionStorage) localStorage.setItem("recorded:" + key, value);
    return setItem.call(this, key, value);
  };
})()"""


def test_a_password_is_not_kept_across_a_switch(live, page):
    page.add_init_script(RECORD_STORED)
    page.goto(f"{live.url}/login")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("secret-typed")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live.url}/login")
    expect(page.locator("input[name='username']")).to_have_value("li")
    expect(page.locator("input[name='password']")).to_have_value("")
    stored = page.evaluate("() => localStorage.getItem('recorded:reformflow-typed')")
    assert stored and '"li"' in stored  # what was typed was stored: the name
    assert "secret-typed" not in stored and "csrf_token" not in stored  # never the password nor the form's token


def test_a_reviewer_reads_the_latest_draft_the_special_groups_review_and_round_two_s_assessment(live, page):
    engine = _engine(live)
    plan = Plan(engine, title="深化征地补偿制度改革方案")
    plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan={"riskAssessmentRequired": True})
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    plan.do("Task_RequestAdjustment", returnReason="补偿标准过低，须提高后重新评估")
    plan.do("Task_DraftPlan", draftSummary="补偿标准提高两成的方案", revisionNotes="补偿标准提高两成")
    plan.run_until("Task_PrepareRiskReport")
    plan.do("Task_PrepareRiskReport", riskLevel="low")
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupOpinion="举措可行，补偿标准合理", specialGroupDecision="approve")
    plan.run_until("Task_LegalityReview")
    review = plan.task("Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    box = page.locator("details.materials")
    draft = box.locator(".content-step[data-step='Task_DraftPlan']")
    expect(draft).to_contain_text("第 2 轮")
    expect(draft).to_contain_text("补偿标准提高两成的方案")
    special = box.locator(".content-step[data-step='Task_SpecialGroupReview']")
    expect(special).to_contain_text("审核通过")
    expect(special).to_contain_text("举措可行，补偿标准合理")
    expect(special.locator(".earlier-round")).to_have_count(0)
    risk = box.locator("tr[data-procedure='risk_assessment']")
    expect(risk.locator(".round")).to_have_text("第 2 轮")
    expect(risk).to_contain_text("登记随决策附带的风险防控措施")
    expect(risk).not_to_contain_text("提出方案调整要求")
    expect(risk).not_to_contain_text("补偿标准过低")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live.url}/tasks/{review['id']}")
    expect(box.locator(".plan-content h3")).to_have_text("What the plan says and its review")
    expect(box.locator(".content-step[data-step='Task_DraftPlan'] .record")).to_contain_text("Round 2")
