"""Buttons and links are heard by what they show, then which row they act on: a name that starts
with the visible words (WCAG 2.5.3: a voice user says 「查看」 and it works) and tells one row's
from the next (2.4.4, 2.4.6: five 认领 in a list of links are five different buttons)."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from .web_helper import sign_in


def _engine(live):
    return live.app.extensions["reformflow"]


def _names(locator) -> list[str]:
    return [item.evaluate("e => e.textContent.replace(/\\s+/g, ' ').trim()") for item in locator.all()]


# ---------------------------------------------------------------- 4. the visible words first
def test_view_revoke_and_undo_are_named_by_their_words_then_their_row(live, page):
    engine = _engine(live)
    engine.set_calendar_day(date(2026, 10, 17), working=True, note="调休上班", actor="chen")
    token = engine.create_token("chen", "OA 系统")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions")
    view = page.locator("table a[href$='/diagram']").first
    expect(view).to_have_accessible_name(re.compile(r"^查看 .+ v\d+ 的流程图$"))
    page.goto(f"{live.url}/account/tokens")
    expect(page.locator(f"tr[data-token='{token['id']}'] button")).to_have_accessible_name("撤销此令牌 OA 系统")
    page.goto(f"{live.url}/calendar/2026")
    expect(page.locator("tr[data-day='2026-10-17'] button")).to_have_accessible_name("撤销录入 2026-10-17")
