"""What docs/users.md tells people about the web inbox, checked in a real browser: the header
links section 6.1 names, the language kept after signing out (section 0), and 退出 ending the
person's sign-in in their other browsers (section 0.1)."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from .web_helper import sign_in

USERS_MD = Path(__file__).resolve().parents[1] / "docs" / "users.md"


def _section_61_intro() -> str:
    """The paragraph under '### 6.1' that names the header's links."""
    text = USERS_MD.read_text(encoding="utf-8")
    after = text.split("### 6.1", 1)[1]
    return after.split("\n\n", 2)[1]


def _header_links(page) -> list[str]:
    return [re.sub(r"\s*\d+$", "", t.strip()) for t in page.locator("header nav a").all_inner_texts()]


def test_the_header_links_users_md_names_are_the_office_s_and_only_some_are_everyone_s(live, page, browser):
    intro = _section_61_intro()
    named = re.findall(r"「([^」]+)」", intro)
    assert {"台账", "用户", "流程定义", "方案列表", "发起方案"} <= set(named), intro
    sign_in(page, live, "chen")
    office = _header_links(page)
    assert set(named) <= set(office), (named, office)
    # the others: 流程定义 and 方案列表 for everyone, none of the office's own pages
    context = browser.new_context(locale="zh-CN")
    other = context.new_page()
    sign_in(other, live, "li")
    everyone = _header_links(other)
    assert {"流程定义", "方案列表"} <= set(everyone)
    assert not {"台账", "季度通报", "督察整改", "办理时效", "工作日日历", "用户", "审计"} & set(everyone)
    context.close()


def test_the_language_chosen_stays_after_signing_out(live, page):
    sign_in(page, live, "li")
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("h1")).to_have_text("Sign in")


def test_signing_out_ends_the_sign_in_in_other_browsers(live, page, browser):
    sign_in(page, live, "zhang")
    context = browser.new_context(locale="zh-CN")
    elsewhere = context.new_page()
    sign_in(elsewhere, live, "zhang")
    page.get_by_role("button", name="退出").click()
    elsewhere.goto(f"{live.url}/tasks")
    expect(elsewhere).to_have_url(re.compile(r"/login\?next=%2Ftasks$"))
    context.close()


def test_the_office_s_header_is_two_rows_at_1280_px_grouped_and_marks_the_page_one_is_on(live, browser):
    """Section 0.2 and 6.1: the inbox and the account on the first row, the other pages on the
    second in three groups; in one row they wrapped onto three lines for the reform office."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live, "chen")
    bar, pages = page.locator("header .bar"), page.locator("header nav.pages")
    line = bar.get_by_role("link", name="账户设置").bounding_box()["height"]
    assert bar.bounding_box()["height"] < 3 * line and pages.bounding_box()["height"] < 3 * line  # one line each
    groups = [[re.sub(r"\s+", "", t) for t in g.locator("a").all_inner_texts()] for g in pages.locator(".group").all()]
    assert groups == [["方案列表", "发起方案", "台账"], ["工作台", "季度通报", "督察整改", "办理时效"],
                      ["用户", "工作日日历", "邮件发送", "流程定义", "审计"]]
    expect(bar.locator("[data-scope='all']")).to_have_attribute("aria-current", "page")  # where signing in lands
    pages.get_by_role("link", name="台账").click()
    expect(pages.get_by_role("link", name="台账")).to_have_attribute("aria-current", "page")
    expect(page.locator("header [aria-current='page']")).to_have_count(1)
    context.close()
