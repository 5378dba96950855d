"""A form that posts an action is sent once (web/static/submit_once.js): a double click on 认领,
提交, 返回修改 or 确认提交 sends one request, while the server is slow to answer, and the
button pressed says it is working; the name and value of the button pressed still arrive (返回修改
and 确认提交 share one form). A form the browser refuses as invalid, a search (GET) and a page
brought back by the back button are not locked."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from .plan_helper import audit_payloads
from .test_web_confirm import OPINION, REASON, _review
from .web_helper import sign_in

SLOW = 0.5  # seconds the server takes to answer a POST: the second click comes well before it


def _slowed(live, monkeypatch) -> None:
    """Every POST answered SLOW seconds late, as by a busy server."""
    answer = live.app.wsgi_app

    def slow(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            time.sleep(SLOW)
        return answer(environ, start_response)
    monkeypatch.setattr(live.app, "wsgi_app", slow)


def _click_twice(page, button) -> None:
    """A click, and another a moment later while the server is still answering: the mouse's,
    which does not wait for the page as Playwright's clicks do (a double click's two clicks
    come so close that the browser itself sends one form)."""
    # submit_once.js is deferred: on a busy machine a click before the page's load event lands
    # before the script has locked anything, as no person's click does on a page they have read
    page.wait_for_load_state("load")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    for _ in range(2):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(100)


def _events(engine, task: dict, event_type: str) -> list[dict]:
    """The task's step's events of a type in its plan's audit trail."""
    return [e for e in audit_payloads(engine, task["instance_id"], event_type) if e["element_id"] == task["element_id"]]


def _posts(page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url.split("/", 3)[3]) if r.method == "POST" else None)
    return sent


def test_a_double_click_claims_and_submits_once_and_each_button_s_value_arrives(live, page, monkeypatch):
    engine = live.app.extensions["reformflow"]
    review = _review(engine)
    _slowed(live, monkeypatch)
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    sent = _posts(page)

    _click_twice(page, page.get_by_role("button", name="认领"))
    expect(page.get_by_label("审查结论")).to_be_visible()
    assert sent == [f"tasks/{review['id']}/claim"]
    assert len(_events(engine, review, "task_claimed")) == 1

    # 不通过 is asked about first: 提交 twice is one question
    page.get_by_label("审查结论").select_option("fail")
    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("退回理由（不通过时必填）").fill(REASON)
    sent.clear()
    _click_twice(page, page.get_by_role("button", name="提交"))
    expect(page.get_by_role("button", name="确认提交")).to_be_visible()
    assert sent == [f"tasks/{review['id']}/complete"]

    # 返回修改 (name="edit") arrives as pressed: the form again, not the question
    sent.clear()
    _click_twice(page, page.get_by_role("button", name="返回修改"))
    expect(page.get_by_label("审查结论")).to_have_value("fail")
    page.wait_for_load_state()
    assert sent == [f"tasks/{review['id']}/complete"]

    # 确认提交 (name="confirmed") twice: one completion, the plan back to drafting
    page.get_by_role("button", name="提交").click()
    sent.clear()
    _click_twice(page, page.get_by_role("button", name="确认提交"))
    expect(page.get_by_role("status")).to_contain_text("已提交「合法合规性审查」")
    assert sent == [f"tasks/{review['id']}/complete"]
    assert engine.task_view(review["id"])["values"]["legalityResult"] == "fail"
    assert len(_events(engine, review, "task_completed")) == 1
    expect(page.get_by_text("正在提交…")).to_have_count(0)  # the next page's buttons are as they were


def test_the_button_pressed_says_so_until_the_page_comes_back(live, page, monkeypatch):
    engine = live.app.extensions["reformflow"]
    review = _review(engine)
    _slowed(live, monkeypatch)
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    # in one script, while the claim is on its way: Playwright's calls wait for the navigation
    pressed, shown_again = page.evaluate("""() => {
        const button = document.querySelector('form[action$="/claim"] button');
        const state = () => [button.textContent, button.getAttribute('aria-disabled'),
                             document.querySelectorAll('form[data-submitting]').length];
        button.click();
        const pressed = state();
        // the page shown again from the browser's back/forward cache
        window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
        return [pressed, state()];
    }""")
    assert pressed == ["正在提交…", "true", 1]
    assert shown_again == ["认领", None, 0]
    expect(page.get_by_label("审查结论")).to_be_visible()  # the claim, sent once, arrives


def test_an_invalid_form_and_a_search_are_not_locked(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/account/password")
    sent = _posts(page)
    # a form the browser refuses (its required fields empty) is sent once they are filled
    page.get_by_role("button", name="修改密码").click()
    assert sent == [] and page.locator("form[data-submitting]").count() == 0
    page.get_by_label("当前密码").fill("not-my-password")
    page.get_by_label("新密码", exact=True).fill("a-new-password-2026")
    page.get_by_label("再次输入新密码").fill("a-new-password-2026")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("main")).to_contain_text("当前密码")
    assert sent == ["account/password"]
    # a search (GET) is not held: sent again, the button as it was
    page.goto(f"{live.url}/tasks")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="查找").get_attribute("aria-disabled") is None
    assert page.locator("form[data-submitting]").count() == 0
