"""The keyboard's way past the header (WCAG 2.4.1) and to what an action did (4.1.3): 「跳到正文」 is
the page's first stop, seen when focused, and leads into <main>; after an action the page's
message has the focus, so it is read first and Tab goes on from there."""
from __future__ import annotations


from playwright.sync_api import expect

from .web_helper import open_task, sign_in


def test_the_first_tab_stop_is_a_visible_skip_link_into_main(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["width"] > 20  # on the screen, not off it
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # on into the page's own content, past the header's links
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_after_an_action_its_message_has_the_focus(live, page):
    task = open_task(live.app.extensions["reformflow"], "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{task['id']}")
    page.get_by_role("button", name="认领").click()
    messages = page.locator("#flashes")
    expect(messages).to_be_focused()
    expect(messages.get_by_role("status")).to_contain_text(f"已认领任务 {task['id']}")
