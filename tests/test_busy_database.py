"""A database held by other work past the wait (SQLite's write lock here; a PostgreSQL deadlock
or serialization failure the same way) is said as what it is: busy, nothing changed, try again.
It was a conflict "on the same plan" (even when starting a new plan), and the web page emptied
the form as if it had gone stale."""
from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect
from sqlalchemy import event

from engine.errors import Busy

from .web_helper import open_task, sign_in, signed_in_client


def _short_wait(engine) -> None:
    """The engine's connections wait 0.2 s for a lock, not 30 s (models/db.py)."""
    event.listen(engine.db.engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout=200"))
    engine.db.engine.dispose()


@contextmanager
def held(engine):
    """Another program holds SQLite's write lock (a backup, an operator's long import)."""
    other = sqlite3.connect(engine.db.url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_an_action_on_a_busy_database_is_refused_as_busy_and_changes_nothing(demo_engine):
    _short_wait(demo_engine)
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    with held(demo_engine), pytest.raises(Busy) as refused:
        demo_engine.claim(review["id"], actor="li")
    assert refused.value.kind == "unavailable"
    assert str(refused.value).startswith("系统繁忙：数据库正被其他操作占用，未做任何更改，请稍候再试一次。")
    assert "同一方案" not in str(refused.value)
    assert demo_engine.task_view(review["id"])["status"] == "open"
    demo_engine.claim(review["id"], actor="li")  # free again: the same action does it
    assert demo_engine.task_view(review["id"])["assignee"] == "li"


def test_the_api_answers_503_with_retry_after(demo_engine):
    _short_wait(demo_engine)
    client = signed_in_client(demo_engine, "chen")
    secret = demo_engine.create_token("chen", "busy test")["secret"]
    with held(demo_engine):
        answer = client.post("/api/v1/plans?lang=en", headers={"Authorization": f"Bearer {secret}"},
                             json={"key": "reform_plan", "title": "新方案", "business_key": "BUSY-1"})
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json() == {"error": "unavailable", "message": "the system is busy: the database is held by "
                                 "other work. Nothing was changed; try again in a moment"}


def test_the_web_form_keeps_what_was_typed_in_its_fields_to_send_again(live, page):
    engine = live.app.extensions["reformflow"]
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="认领").click()
    _short_wait(engine)
    opinion = "符合法律法规，同意提交审议。"
    page.get_by_label("审查结论").select_option("pass")
    page.get_by_label("合法性审查意见").fill(opinion)
    with held(engine):
        with page.expect_response(re.compile(rf"/tasks/{review['id']}/complete$")) as answer:
            page.get_by_role("button", name="提交").click()
        assert answer.value.status == 503
        expect(page.get_by_role("alert")).to_contain_text("系统繁忙：数据库正被其他操作占用，未做任何更改")
        # the form itself, filled in as it was: not a stale page's box of what was lost
        expect(page.get_by_label("合法性审查意见")).to_have_value(opinion)
        expect(page.get_by_label("审查结论")).to_have_value("pass")
        assert page.locator("[data-kept-field]").count() == 0
    page.get_by_role("button", name="提交").click()  # the lock gone, the same page sends it
    expect(page.get_by_role("status")).to_contain_text("已提交")
    assert engine.task_view(review["id"])["status"] == "completed"
