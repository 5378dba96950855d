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
    expect(page.locator("tr[data-day='2026-10-17'] button")).to_have_accessible_name("撤销录入 2026年10月17日")


# ---------------------------------------------------------------- 5. one row's from the next
def test_claim_stop_and_the_overview_s_figures_say_which(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks?scope=claimable")
    claims = page.locator("td.act button")
    assert claims.count() >= 2
    names = _names(claims)
    assert all(n.startswith("认领 ") for n in names) and len(set(names)) == len(names), names
    first = page.locator("tr[data-task]").first
    task_id = first.get_attribute("data-task")
    expect(first.locator("td.act button")).to_have_accessible_name(re.compile(rf"^认领 {task_id} \S"))

    page.goto(f"{live.url}/plans")
    stops = page.get_by_role("link", name=re.compile("^终止"))
    names = _names(stops)
    assert len(names) >= 2 and len(set(names)) == len(names), names
    assert all(re.match(r"^终止 \S+$", n) for n in names), names

    page.goto(f"{live.url}/overview")
    for figure, said in (("overdue", "逾期未办结"), ("due-soon", "即将到期"), ("claimable", "待改革办认领"),
                         ("filings-overdue", "备案 已逾期"), ("rectifications", "整改未销号")):
        expect(page.locator(f"a[data-figure='{figure}']")).to_have_accessible_name(re.compile(rf"^\d+ {said}$"))
