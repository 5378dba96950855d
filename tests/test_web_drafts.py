"""暂存 on a step's page: a reviewer types a long legality opinion, presses 暂存, closes the browser,
signs in again and finds the form filled as she left it, with the comment she had typed; the
submission afterwards goes through and the draft is gone. Nobody else sees it. In a real browser
over the demo (SQLite), and with Flask's test client for the refusals."""
from __future__ import annotations

from playwright.sync_api import expect

from .web_helper import open_task, sign_in, signed_in_client

OPINION = "经审查，方案第三条关于收费的规定缺乏上位法依据，建议删除或报请授权。"


def _engine(live):
    return live.app.extensions["reformflow"]


def test_a_reviewer_saves_her_opinion_closes_the_browser_and_finds_it_the_next_time(live, browser):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    # the page says that a long pause signs her out, and that 暂存 is what keeps the words
    expect(page.locator(".task-form .actions .hint")).to_contain_text("30 分钟内没有操作会自动退出，退出前 2 分钟会提醒；退出后才提交的内容会为您暂存")
    page.get_by_label("审查结论").select_option("pass_with_changes")
    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("留言").fill("请起草人补充收费依据")
    page.get_by_role("button", name="暂存", exact=True).click()
    expect(page.locator(".flash.ok")).to_contain_text("已暂存，尚未提交")
    expect(page.locator(".draft-note")).to_contain_text("暂存的内容，尚未提交")
    page.goto(f"{live.url}/tasks?scope=mine")  # her inbox says which steps she has begun
    expect(page.locator(f"tr[data-task='{review['id']}'] .drafted")).to_contain_text("已暂存")
    context.close()  # the browser closed: nothing kept on her side

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    expect(page.get_by_label("合法性审查意见")).to_have_value(OPINION)
    expect(page.get_by_label("审查结论")).to_have_value("pass_with_changes")
    expect(page.get_by_label("留言")).to_have_value("请起草人补充收费依据")
    page.get_by_label("须修改的内容（修改后通过时必填）").fill("删除第三条")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(f"{live.url}/plans/{review['instance_id']}")
    done = engine.task_view(review["id"])
    assert done["status"] == "completed" and done["values"]["legalityOpinion"] == OPINION
    assert engine.draft(review["id"], actor="li") is None
    context.close()


def test_the_office_sees_neither_the_draft_nor_a_button_to_save_one(live):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    engine.save_draft(review["id"], {"legalityOpinion": OPINION}, actor="li")
    chen = signed_in_client(engine, "chen")
    page = chen.get(f"/tasks/{review['id']}").get_data(as_text=True)
    page = page.split('<div id="session-warning"')[0]  # the sign-out warning tells of 暂存 on every page
    assert OPINION not in page and "暂存" not in page
    refused = chen.post(f"/tasks/{review['id']}/draft", data={"legalityOpinion": "改革办的话"})
    assert refused.status_code == 403 and "只有办理人可以暂存" in refused.get_data(as_text=True)
    assert engine.draft(review["id"], actor="li")["values"] == {"legalityOpinion": OPINION}
    assert engine.draft(review["id"], actor="chen") is None


def test_enter_in_a_field_saves_a_draft_not_submits_nor_asks_for_a_file(live, page):
    """Enter in a one-line field presses the form's first button. Before, that was 仅上传所选附件,
    and a drafter who typed a number and pressed Enter read 「请先选择要上传的文件」."""
    engine = _engine(live)
    held = open_task(engine, "DT-2015-02", "Task_PublicConsultation")  # zhang's, in the demo
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{held['id']}")
    page.get_by_label("征求意见期限（日）").fill("45")
    page.get_by_label("征求意见期限（日）").press("Enter")
    expect(page.locator(".flash.ok")).to_contain_text("已暂存，尚未提交")
    assert page.url == f"{live.url}/tasks/{held['id']}"
    expect(page.get_by_label("征求意见期限（日）")).to_have_value("45")
    assert engine.task_view(held["id"])["status"] == "claimed"  # not submitted
    assert engine.draft(held["id"], actor="zhang")["values"]["consultationDays"] == "45"
