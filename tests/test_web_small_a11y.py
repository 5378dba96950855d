"""Small things a keyboard or screen reader user meets: after a wrong password the cursor is in
the password (the name typed is kept); 「正在提交…」 is said, not only shown, while a form is on its
way; the trail above a page's heading is a navigation landmark."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .web_helper import open_task, sign_in, signed_in_client


def test_after_a_refused_sign_in_the_password_has_the_focus(live, page):
    page.goto(f"{live.url}/login")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("wrong-one")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page).to_have_url(re.compile(r"/login"))  # the sign-in page again, its field focused under the message
    expect(page.get_by_label("密码")).to_be_focused()
    expect(page.get_by_label("用户名")).to_have_value("li")


def test_submitting_is_said_in_a_live_region(live, page):
    task = open_task(live.app.extensions["reformflow"], "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{task['id']}")
    region = page.locator("[aria-live=polite][data-submitting-said]")
    expect(region).to_have_text("")
    # the form stopped after submit_once.js has seen it (a listener after its own), so the page stays to be read
    page.evaluate("window.addEventListener('submit', event => event.preventDefault())")
    page.get_by_role("button", name="认领").click()
    expect(region).to_have_text("正在提交…")
    expect(page.get_by_role("button", name="正在提交…")).to_have_attribute("aria-disabled", "true")


def test_the_crumbs_are_a_navigation_landmark(demo_engine):
    task = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    html = signed_in_client(demo_engine, "chen").get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert re.search(r'<nav class="crumbs" aria-label="位置"><p><a href="/plans/\d+">', html)
