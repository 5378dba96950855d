"""Every kind of page, checked by axe-core (the accessibility engine browsers' own audits use) for
WCAG 2.1 A and AA in a real browser: what can be found automatically — names of links, buttons
and fields, labels, contrast, headings, landmarks, language. Chinese government sites answer
to GB/T 37668-2019, which follows WCAG 2.0; the checks do not replace trying the pages with a
screen reader, they keep what passes now from breaking unseen.

Pages as the reform office, a legal reviewer and a drafter see them, with a form refused (the
problems beside the fields), in English, and on a phone."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .web_helper import open_task, sign_in

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


def _violations(page) -> list[str]:
    """Each rule broken, with its first place: what to mend, in one line each."""
    page.wait_for_load_state("load")  # after a click, the whole page and its style sheet (contrast), not part of it
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [f"{page.url}: {v['id']} ({v['impact']}) {v['help']}; {len(v['nodes'])} place(s), "
            f"first {v['nodes'][0]['target']}: {v['nodes'][0]['html'][:160]}" for v in found]


def _engine(live):
    return live.app.extensions["reformflow"]


OFFICE_PAGES = ["/tasks", "/tasks?scope=done", "/plans", "/plans/new", "/ledger", "/overview", "/bulletin", "/supervision",
                "/stats", "/calendar", "/people", "/people/new", "/people/li", "/mail", "/definitions", "/audit", "/audit/events",
                "/account", "/account/password", "/account/email", "/account/tokens", "/account/delegation",
                "/definitions/reform_plan/v1/diagram"]


def test_the_office_s_pages_have_no_wcag_violation_axe_finds(live, page):
    sign_in(page, live, "chen")
    review = open_task(_engine(live), "DT-2015-04", "Task_LegalityReview")
    problems = []
    for path in [*OFFICE_PAGES, f"/tasks/{review['id']}", f"/plans/{review['instance_id']}",
                 f"/plans/{review['instance_id']}/archive", f"/plans/{review['instance_id']}/diagram",
                 f"/plans/{review['instance_id']}/trail"]:
        assert page.goto(live.url + path).status == 200, path  # the page itself, not an error page
        problems += _violations(page)
    assert problems == []


def test_a_reviewer_s_form_refused_and_the_sign_in_page_have_none(live, page):
    page.goto(f"{live.url}/login")
    assert _violations(page) == []
    review = open_task(_engine(live), "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="认领").click()
    page.get_by_role("button", name="提交").click()  # the opinion is required
    expect(page.locator(".problem").first).to_be_visible()  # refused: the problems beside the fields
    assert _violations(page) == []


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_drafter_s_inbox_in_english_and_on_a_phone_has_none(live, browser, viewport):
    context = browser.new_context(locale="en-GB", viewport=viewport)
    page = context.new_page()
    sign_in(page, live, "song")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="中文")).to_be_visible()  # the language changed: click does not wait for that
    problems = []
    for path in ["/tasks", "/tasks?scope=mine", "/plans"]:
        page.goto(live.url + path)
        problems += _violations(page)
    context.close()
    assert problems == []


def test_on_a_phone_no_page_of_the_office_scrolls_sideways_only_its_wide_tables_do(live, browser):
    """办理时效 scrolled the whole page to 967 px on a 390 px phone, its figures off the screen; a
    wide table now scrolls inside its own box and the page keeps the phone's width."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live, "chen")
        plan = live.app.extensions["reformflow"].ledger()[0]["id"]
        wide = []
        for path in ("/stats", "/plans", "/ledger", f"/plans/{plan}/archive", "/overview", "/supervision",
                     "/bulletin", "/people", "/definitions"):
            page.goto(live.url + path)
            if page.evaluate("document.documentElement.scrollWidth") > 390:
                wide.append(path)
            boxes = page.locator(".table-scroll")
            if path == "/stats":
                assert boxes.first.evaluate("b => b.scrollWidth > b.clientWidth")  # its table scrolls within
        assert wide == []
    finally:
        context.close()
