"""The English pages fit their screens (a real browser): the step-times table within the page at
1280 px, a wrapped row of the header's page links never starting with a separator, and the
audit trail's head hash wrapping on a phone rather than widening the page."""
from __future__ import annotations

from playwright.sync_api import expect

from .web_helper import sign_in


def _english(page, live, username: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live, username)
    page.get_by_role("button", name="English").click()


def test_the_step_times_table_fits_the_page_at_1280(live, page):
    _english(page, live, "chen", 1280)
    page.goto(f"{live.url}/stats")
    sizes = page.evaluate("""() => { const t = document.querySelector('table.stats');
        return [t.getBoundingClientRect().width, t.parentElement.clientWidth, document.documentElement.scrollWidth]; }""")
    table, box, whole = sizes
    assert table <= box + 1, sizes
    assert whole <= 1280, sizes


def test_a_wrapped_row_of_page_links_never_starts_with_a_separator(live, page):
    _english(page, live, "chen", 1280)
    for width in (1024, 800, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live.url}/overview")
        groups = page.evaluate("""() => {
            const clip = document.querySelector('nav.pages .clip').getBoundingClientRect();
            const box = document.querySelector('nav.pages .rows');
            const left = Math.min(...[...box.children].map(g => g.getBoundingClientRect().left));
            return [...box.children].map(g => { const r = g.getBoundingClientRect();
                return {starts_row: Math.abs(r.left - left) < 1, separator_shown: r.left >= clip.left,
                        top: r.top}; }); }""")
        rows = {g["top"] for g in groups}
        assert len(groups) == 3
        for g in groups:  # a group at the start of a row has its separator clipped; the others show it
            assert g["separator_shown"] != g["starts_row"], (width, groups)
        if width == 390:  # a phone: one row that scrolls sideways, not three rows of links over the page
            assert len(rows) == 1
            assert page.evaluate("(c => c.scrollWidth > c.clientWidth)(document.querySelector('nav.pages .clip'))")
        elif width == 800:
            assert len(rows) > 1  # it did wrap


def test_the_head_hash_wraps_on_a_phone(live, page):
    _english(page, live, "feng", 390)
    page.goto(f"{live.url}/audit")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".verdict code")).to_be_visible()
    page.wait_for_load_state("load")  # the element shows before the stylesheet applies; measure after it
    sizes = page.evaluate("""() => [document.querySelector('.verdict code').getBoundingClientRect().width,
                                   document.documentElement.scrollWidth, window.innerWidth]""")
    code, whole, screen = sizes
    assert code <= screen and whole <= screen, sizes


def test_the_bulk_urge_box_shows_its_whole_placeholder(live, page):
    _english(page, live, "chen", 1280)
    page.goto(f"{live.url}/tasks?scope=all")
    box = page.locator("#urge-picked-note")
    expect(box).to_have_attribute("placeholder", "If left empty: 请抓紧办理。 (“please deal with it promptly”)")
    assert box.evaluate("e => { const c = document.createElement('canvas').getContext('2d');"
                        " c.font = getComputedStyle(e).font; return c.measureText(e.placeholder).width + 8 < e.clientWidth; }")
