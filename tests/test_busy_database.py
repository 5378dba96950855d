"""A database held by other work past the wait (SQLite's write lock; on PostgreSQL a plan's row
locked past lock_timeout, a deadlock or serialization failure the same way) is said as what it
is: busy, nothing changed, try again. It was a conflict "on the same plan" (even when starting a
new plan), and the web page emptied the form as if it had gone stale. On PostgreSQL a row held
from psql made the command line wait for ever and the web answer 500 at gunicorn's timeout."""
from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

import models.db
from engine.cli import main
from engine.commands import Engine
from engine.errors import Busy
from models.db import Database
from web import create_app

from .conftest import FIXTURES, add_people, read
from .web_helper import open_task, page_text, sign_in, signed_in_client

BUSY = "系统繁忙：数据库正被其他操作占用，未做任何更改，请稍候再试一次。"


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


# ---------------------------------------------------------------- PostgreSQL: a row lock held
@pytest.fixture
def claimed(postgres_db) -> tuple[Engine, dict]:
    """li holds the legality step of a plan on PostgreSQL, ready to submit it."""
    engine = Engine(postgres_db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    plan = engine.start("parallel_review", actor="zhang")
    task = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    return engine, engine.claim(task["id"], actor="li")


@pytest.fixture
def one_second_wait(postgres_db, monkeypatch) -> Database:
    """reformflow's connections give up on a lock after 1 s, not 30 (models.db.LOCK_WAIT_SECONDS):
    the database as a new command line or web server opens it."""
    monkeypatch.setattr(models.db, "LOCK_WAIT_SECONDS", 1)
    db = Database(postgres_db.url)
    yield db
    db.dispose()


@contextmanager
def plan_row_held(db: Database, instance_id: int):
    """An operator's psql holds the plan's row: `BEGIN; SELECT id FROM process_instances WHERE id =
    … FOR UPDATE;` left open. The server ends that session after 10 s idle, so a command that
    waits without a limit goes through then, and the test fails instead of hanging."""
    other = create_engine(db.url, poolclass=NullPool,
                          connect_args={"options": "-c idle_in_transaction_session_timeout=10s"})
    holder = other.raw_connection()
    try:
        holder.cursor().execute("SELECT id FROM process_instances WHERE id = %s FOR UPDATE", (instance_id,))
        yield
    finally:
        holder.close()  # rolled back, or already ended by the server
        other.dispose()


def _events(db: Database) -> int:
    with db.read_connection() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_events")).scalar()


def test_on_postgresql_a_plan_held_past_the_lock_wait_is_refused_as_busy_and_changes_nothing(claimed, one_second_wait):
    engine, task = claimed
    before = _events(engine.db)
    started = time.monotonic()
    with plan_row_held(engine.db, task["instance_id"]), pytest.raises(Busy) as refused:
        Engine(one_second_wait).complete(task["id"], actor="li", data={"legalOpinion": "同意"})
    assert time.monotonic() - started < 8  # the 1 s limit ended the wait, not the holder's session
    assert refused.value.kind == "unavailable"
    assert str(refused.value).startswith(BUSY)
    assert engine.task_view(task["id"])["status"] == "claimed"
    assert _events(engine.db) == before
    Engine(one_second_wait).complete(task["id"], actor="li", data={"legalOpinion": "同意"})  # free again
    assert engine.task_view(task["id"])["status"] == "completed"


def test_on_postgresql_the_command_line_says_busy_and_exits_8(claimed, one_second_wait):
    engine, task = claimed
    before = _events(engine.db)
    with plan_row_held(engine.db, task["instance_id"]):
        result = CliRunner().invoke(main, ["--db", engine.db.url, "complete", str(task["id"]), "--as", "li",
                                           "--data", json.dumps({"legalOpinion": "同意"})])
    assert result.exit_code == 8, result.output + result.stderr
    assert result.stderr.startswith(f"reformflow: unavailable: {BUSY}")
    assert engine.task_view(task["id"])["status"] == "claimed"
    assert _events(engine.db) == before


def test_on_postgresql_init_waiting_on_a_held_table_says_what_holds_it_not_to_run_init(claimed, one_second_wait):
    """A pg_dump or a psql session left open holding a table: init gave up after the wait and was
    told, of all things, to run `reformflow init`."""
    engine, _ = claimed
    other = create_engine(engine.db.url, poolclass=NullPool,
                          connect_args={"options": "-c idle_in_transaction_session_timeout=10s"})
    holder = other.raw_connection()
    try:
        holder.cursor().execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        result = CliRunner().invoke(main, ["--db", engine.db.url, "init"])
    finally:
        holder.close()
        other.dispose()
    assert result.exit_code == 3, result.output + result.stderr
    assert "所需的表正被其他会话占用（例如正在进行的 pg_dump、未结束的 psql 会话），等待 1 秒后放弃，未做任何更改" in result.stderr
    assert "pg_stat_activity" in result.stderr and "运行 `reformflow init`" not in result.stderr


def test_on_postgresql_the_api_answers_503_with_retry_after(claimed, one_second_wait):
    engine, task = claimed
    secret = engine.create_token("li", "busy test")["secret"]
    client = create_app(engine=Engine(one_second_wait), secret_key="test", testing=True).test_client()
    with plan_row_held(engine.db, task["instance_id"]):
        answer = client.post(f"/api/v1/tasks/{task['id']}/complete?lang=en", headers={"Authorization": f"Bearer {secret}"},
                             json={"data": {"legalOpinion": "同意"}, "version": task["version"]})
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json() == {"error": "unavailable", "message": "the system is busy: the database is held by "
                                 "other work. Nothing was changed; try again in a moment"}
    assert engine.task_view(task["id"])["status"] == "claimed"


def test_on_postgresql_the_web_form_comes_back_503_with_what_was_typed(claimed, one_second_wait):
    engine, task = claimed
    engine.set_password("li", "busy-test-Pw-2026", actor="li", first=True)
    client = signed_in_client(Engine(one_second_wait), "li", "busy-test-Pw-2026")
    opinion = "符合法律法规，同意提交审议。"
    with plan_row_held(engine.db, task["instance_id"]):
        answer = client.post(f"/tasks/{task['id']}/complete",
                             data={"legalOpinion": opinion, "version": task["version"]})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert BUSY.removesuffix("。") in page_text(answer)
    # the form itself, filled in as it was: not a stale page's box of what was lost
    assert re.search(rf'<textarea id="f-legalOpinion" name="legalOpinion"[^>]*>\s*{opinion}\s*</textarea>',
                     answer.get_data(as_text=True))
    assert "data-kept-field" not in answer.get_data(as_text=True)
    assert engine.task_view(task["id"])["status"] == "claimed"


def test_postgresql_connections_wait_30_seconds_for_a_lock_unless_the_operator_chose_otherwise(postgres_db):
    with postgres_db.engine.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
    own = Database(postgres_db.url + "?options=-c%20lock_timeout%3D5s")  # or ALTER ROLE … SET lock_timeout
    try:
        with own.engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "5s"
    finally:
        own.dispose()


@pytest.fixture
def ten_second_wait(postgres_db, monkeypatch) -> Database:
    monkeypatch.setattr(models.db, "LOCK_WAIT_SECONDS", 10)
    db = Database(postgres_db.url)
    yield db
    db.dispose()


def test_on_postgresql_a_connection_ended_mid_command_says_run_it_again_and_exits_8(claimed, ten_second_wait):
    """The concurrency audit of 6 December 2026: a command whose session an administrator ended
    (pg_terminate_backend; a server restart, the network) was told to check its URL and password,
    exit 3, a setting to correct, so a script did not run it again."""
    import threading
    engine, task = claimed
    before = _events(engine.db)
    ended = []

    def end_the_waiting_session():
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not ended:
            with engine.db.read_connection() as conn:
                ended.extend(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalars().all())
            time.sleep(0.1)

    with plan_row_held(engine.db, task["instance_id"]):
        killer = threading.Thread(target=end_the_waiting_session)
        killer.start()
        result = CliRunner().invoke(main, ["--db", engine.db.url, "complete", str(task["id"]), "--as", "li",
                                           "--data", json.dumps({"legalOpinion": "同意"})])
        killer.join()
    assert ended == [True]
    assert result.exit_code == 8, result.output + result.stderr
    assert result.stderr.startswith("reformflow: unavailable: 数据库连接在办理中断开：terminating connection due to "
                                    "administrator command。本次操作可能没有完成：请先用 reformflow instance 或 "
                                    "reformflow tasks 查看是否已经保存，没有保存的再运行一次")
    assert "--db" not in result.stderr and "pgpass" not in result.stderr
    assert engine.task_view(task["id"])["status"] == "claimed"
    assert _events(engine.db) == before
