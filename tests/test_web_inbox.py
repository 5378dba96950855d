"""The web inbox in a real browser: a legal reviewer signs in, claims the legality review of
DT-2015-04 from the inbox, submits it with a required field missing (refused at the field,
what was entered kept), then as it should be, and sees the plan move on."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .web_helper import sign_in


def _legality_review(engine) -> dict:
    with engine.db.reader() as s:
        from engine.queries import list_tasks
        return next(t for t in list_tasks(s, "li", "claimable") if t["element_id"] == "Task_LegalityReview")


def test_sign_in_is_required_and_a_wrong_password_is_refused(live, page):
    page.goto(f"{live.url}/tasks")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Ftasks$"))
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("li")
    # the right one, in the form as a person types it (the other tests sign in with its POST)
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.url}/tasks")
    expect(page.locator("h1")).to_contain_text("待办")


def test_a_reviewer_claims_and_completes_the_legality_review(live, page):
    review = _legality_review(live.app.extensions["reformflow"])
    sign_in(page, live, "li")
    row = page.locator(f"tr[data-task='{review['id']}']")
    expect(row).to_contain_text("DT-2015-04")
    expect(row).to_contain_text("合法合规性审查")
    row.get_by_role("button", name="认领").click()

    expect(page.get_by_role("status")).to_contain_text(f"已认领任务 {review['id']}")
    expect(page.locator("h1")).to_contain_text("办理中")
    page.get_by_label("审查结论").select_option("pass")
    page.get_by_role("button", name="提交").click()  # the opinion is required: refused at its field
    field = page.locator("[data-field='legalityOpinion']")
    expect(field.locator(".problem")).to_contain_text("为必填项")
    expect(page.get_by_label("审查结论")).to_have_value("pass")  # what was entered is kept

    page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已提交「合法合规性审查」")
    expect(page.locator("ul.steps")).to_contain_text("改革办审核拟上会方案")
    expect(page.locator("ol.trail")).to_contain_text("合法性审查意见 = 符合法律法规，同意提交审议")

    engine = live.app.extensions["reformflow"]
    done = engine.task_view(review["id"])
    assert done["status"] == "completed" and done["completed_by"] == "li"


def test_a_claim_someone_made_first_is_a_conflict_not_an_overwrite(live, page):
    review = _legality_review(live.app.extensions["reformflow"])
    sign_in(page, live, "li")
    # another legal reviewer takes it while li's inbox is on the screen
    engine = live.app.extensions["reformflow"]
    engine.add_user("li2", "李二", groups=["legal"], unit="市司法局", password="demo")
    engine.claim(review["id"], actor="li2")
    page.locator(f"tr[data-task='{review['id']}']").get_by_role("button", name="认领").click()
    expect(page.get_by_role("alert")).to_contain_text("已在别处处理或修改")
    assert engine.task_view(review["id"])["assignee"] == "li2"


def test_english_is_one_click_away_and_stays_chosen(live, page):
    sign_in(page, live, "li")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("All tasks")
    page.get_by_role("link", name="My tasks").click()
    expect(page.locator("h1")).to_contain_text("My tasks")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_contain_text("我的待办")


def test_the_inbox_counts_its_tasks_in_the_page_s_language(live, page):
    sign_in(page, live, "chen")  # the reform office: every open task of the demo
    count = page.locator("h1 small").inner_text()
    assert re.fullmatch(r"\d+ 项", count), count  # not "18 items" on a Chinese page
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1 small")).to_have_text(re.compile(r"^\d+ items?$"))  # waits for the new page


def test_on_a_phone_each_task_is_a_card_with_its_values_named(live, browser):
    """At 390 px seven columns set a step's name one character a line; each row is a card."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live, "song")
    expect(page.locator("table.inbox thead")).to_be_hidden()
    card = page.locator("table.inbox tbody tr").first
    step = card.locator("td[data-label='环节']")
    assert step.evaluate("td => getComputedStyle(td, '::before').content") == '"环节："'  # named before the value
    one_line = card.locator("td[data-label='编号']").bounding_box()["height"]
    assert step.get_by_role("link").bounding_box()["height"] < 1.5 * one_line  # not a character a line
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing to scroll sideways
    page.goto(f"{live.url}/tasks?scope=done")  # steps without a deadline: no empty 期限 line
    undated = page.locator("table.inbox tbody td[data-label='期限']:empty")
    assert undated.count() > 0
    expect(undated.first).to_be_hidden()
    context.close()
