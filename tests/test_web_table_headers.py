"""Every column of a table has a header a screen reader can say (WCAG 1.3.1): the buttons' column
is 「操作」, visually hidden; the stop's empty column in the archive is 附件, as in the other
procedures' tables it lines up with."""
from __future__ import annotations

import re
from datetime import date, timedelta

from engine import clock

from .web_helper import open_task, signed_in_client


def _empty_headers(html: str) -> list[str]:
    heads = re.findall(r"<th\b[^>]*>(.*?)</th>", html, re.S)
    assert heads, "no table on the page"
    return [h for h in heads if not re.sub(r"<[^>]+>", "", h).strip()]


def test_no_table_header_is_empty(demo_engine):
    engine = demo_engine
    engine.set_calendar_day(date(2026, 10, 17), working=True, note="调休上班", actor="chen")
    engine.create_token("chen", "OA 系统")
    today = clock.today()
    engine.delegate("chen", to="wang", starts_on=today + timedelta(days=1), ends_on=today + timedelta(days=5),
                    reason="出差", actor="chen")
    stopped = open_task(engine, "DT-2015-04", "Task_LegalityReview")["instance_id"]
    engine.cancel_plan(stopped, reason="并入其他方案", actor="chen")
    client = signed_in_client(engine, "chen")
    for path in ("/tasks?scope=all", "/plans", "/calendar/2026", "/account/tokens", "/account/delegation",
                 f"/plans/{stopped}/archive"):
        html = client.get(path).get_data(as_text=True)
        assert _empty_headers(html) == [], path
    assert '<th><span class="visually-hidden">操作</span></th>' in client.get("/plans").get_data(as_text=True)
