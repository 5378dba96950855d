"""QA auditor finding 9: every event a person causes says how they acted (web inbox, JSON API with
which token, command line), the timers' say 系统 (the worker); events from before channels were
recorded say 未记录, not a guess; the channel is in each event's hash, so changing or removing it
breaks the chain, while events hashed without one still verify."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from engine import audit, channels
from engine.audit import verify
from engine.cli import main
from engine.planless import planless_events
from models import AuditEvent, HumanTask

from .conftest import FIXTURES
from .test_audit import tamper
from .web_helper import page_text, signed_in_client

CHECKER = Path(__file__).resolve().parents[1] / "ops" / "check_audit_export.py"
PASSWORD = "channel-test-Pw-2026"


def _cli(engine, *args) -> str:
    result = CliRunner().invoke(main, ["--db", engine.db.url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def _open_task(engine, plan_id: int, element_id: str) -> int:
    with engine.db.reader() as s:
        return s.execute(select(HumanTask.id).where(HumanTask.instance_id == plan_id,
                                                    HumanTask.element_id == element_id)).scalar_one()


def _events(engine, plan_id: int) -> list[AuditEvent]:
    with engine.db.reader() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.instance_id == plan_id).order_by(AuditEvent.seq)).scalars().all()
        s.expunge_all()
    return rows


def _plan_through_three_channels(engine) -> tuple[int, int]:
    """A plan started and drafted on the command line, commented on in the web inbox, reviewed
    through the API with li's token. Returns (plan id, the token's id)."""
    _cli(engine, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan_id = json.loads(_cli(engine, "start", "mini_approval", "--as", "zhang", "--title", "渠道方案", "--json"))["id"]
    engine.set_password("zhang", PASSWORD, actor="zhang", first=True)
    web = signed_in_client(engine, "zhang", PASSWORD)
    assert web.post(f"/plans/{plan_id}/comments", data={"plan-comment": "网页上的留言"}).status_code == 302
    draft = _open_task(engine, plan_id, "Task_Draft")
    _cli(engine, "complete", str(draft), "--as", "zhang", "--data", json.dumps({"summary": "命令行提交", "days": 10}))
    token = engine.create_token("li", "OA 系统")
    api = web.application.test_client()
    headers = {"Authorization": f"Bearer {token['secret']}"}
    review = _open_task(engine, plan_id, "Task_Review")
    claimed = api.post(f"/api/v1/tasks/{review}/claim", headers=headers, json={})
    assert claimed.status_code == 200, claimed.get_json()
    done = api.post(f"/api/v1/tasks/{review}/complete", headers=headers,
                    json={"data": {"decision": "approve"}, "version": claimed.get_json()["version"]})
    assert done.status_code == 200, done.get_json()
    return plan_id, token["id"]


def test_each_event_says_whether_it_came_from_the_web_the_api_with_which_token_or_the_command_line(engine, people):
    plan_id, token_id = _plan_through_three_channels(engine)
    by_type = {(e.event_type, e.actor): (e.channel, e.token_id) for e in _events(engine, plan_id)}
    assert by_type[("instance_started", "zhang")] == ("cli", None)
    assert by_type[("comment_added", "zhang")] == ("web", None)
    assert by_type[("task_completed", "zhang")] == ("cli", None)
    assert by_type[("task_claimed", "li")] == ("api", token_id)
    assert by_type[("task_completed", "li")] == ("api", token_id)
    # the token's id, never its secret: the secret is nowhere on the trail
    with engine.db.reader() as s:
        token_events = s.execute(select(AuditEvent.payload).where(AuditEvent.token_id.is_not(None))).scalars().all()
    assert token_events and all("rf_" not in p for p in token_events)

    # the command line's history says it on each line
    lines = _cli(engine, "history", str(plan_id)).splitlines()
    assert any("张伟 (zhang)  [命令行 (command line)]  发起方案" in line for line in lines)
    assert any("张伟 (zhang)  [网页 (web)]  留言" in line for line in lines)
    assert any(f"李娜 (li)  [接口（令牌 {token_id}） (API (token {token_id}))]  提交" in line for line in lines)

    # the API's trail: the fields and the line in the request's language
    li = {"Authorization": f"Bearer {engine.create_token('chen', 'audit')['secret']}"}
    client = signed_in_client(engine, "zhang", PASSWORD).application.test_client()
    trail = client.get(f"/api/v1/plans/{plan_id}/history", headers=li).get_json()["events"]
    completed = [e for e in trail if e["event_type"] == "task_completed"]
    assert [(e["actor"], e["channel"], e["token_id"], e["via"]) for e in completed] == [
        ("zhang", "cli", None, "命令行"), ("li", "api", token_id, f"接口（令牌 {token_id}）")]

    # the plan's page
    page = page_text(signed_in_client(engine, "zhang", PASSWORD).get(f"/plans/{plan_id}"))
    assert "张伟 ［网页］ 留言" in page and f"李娜 ［接口（令牌 {token_id}）］ 提交" in page

    # the export: the exact fields, and the CSV's column in words
    jsonl = _cli(engine, "audit", "export", "--instance", str(plan_id)).splitlines()
    exported = [json.loads(line) for line in jsonl]
    assert {(e["event_type"], e["channel"], e["token_id"]) for e in exported if e["actor"] == "li"} >= {
        ("task_completed", "api", token_id)}
    out = io.StringIO()
    with engine.db.reader() as s:
        audit.export(s, out, "csv", plan_id)
    rows = out.getvalue().splitlines()
    assert "办理渠道 (how it came)" in rows[0] and f"接口（令牌 {token_id}）" in out.getvalue()

    # the chain verifies, and so does the export checked outside the system
    with engine.db.reader() as s:
        assert verify(s).ok


def test_the_export_checker_recomputes_hashes_with_the_channel(engine, people, tmp_path):
    _plan_through_three_channels(engine)
    for fmt in ("jsonl", "csv"):
        path = tmp_path / f"whole.{fmt}"
        _cli(engine, "audit", "export", "--format", fmt, "--output", str(path))
        checked = subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_a_channel_changed_or_taken_away_breaks_the_events_hash(engine, people):
    plan_id, token_id = _plan_through_three_channels(engine)
    [api_done] = [e for e in _events(engine, plan_id) if e.event_type == "task_completed" and e.actor == "li"]
    [cli_done] = [e for e in _events(engine, plan_id) if e.event_type == "task_completed" and e.actor == "zhang"]
    tamper(engine.db, "UPDATE audit_events SET channel = 'web', token_id = NULL WHERE seq = :seq", seq=api_done.seq)
    tamper(engine.db, "UPDATE audit_events SET channel = NULL WHERE seq = :seq", seq=cli_done.seq)
    with engine.db.reader() as s:
        found = verify(s)
    assert not found.ok
    assert any(f"事件 {api_done.seq} 的内容与其哈希不符" in p for p in found.problems)
    assert any(f"事件 {cli_done.seq} 的内容与其哈希不符" in p for p in found.problems)


def test_timers_are_the_workers_and_events_before_channels_say_not_recorded(engine, people, at):
    _cli(engine, "deploy", str(FIXTURES / "diagrams" / "deadline_months.bpmn"))
    with at("2026-01-05T09:00"):
        plan_id = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})["id"]  # no channel: as before 0025
    with at("2026-02-06T09:00"):
        _cli(engine, "timers", "run")  # the operator runs them by hand: still the worker's doing
    events = _events(engine, plan_id)
    assert [(e.event_type, e.channel) for e in events if e.event_type == "timer_fired"] == [("timer_fired", "worker")]
    assert {e.channel for e in events if e.event_type == "instance_started"} == {None}
    lines = _cli(engine, "history", str(plan_id)).splitlines()
    assert any("张伟 (zhang)  [未记录 (not recorded)]  发起方案" in line for line in lines)
    assert any("系统 (system)  [系统 (system)]" in line for line in lines)
    with engine.db.reader() as s:
        assert verify(s).ok  # events hashed without a channel and with one, side by side


def test_a_trail_written_before_0025_still_verifies_and_says_not_recorded(blank_url):
    """Events hashed by the code of schema 0024 (9 fields, no channel) verify after the upgrade,
    beside new ones with their channel; the downgrade is refused once an event carries one."""
    from alembic import command

    from engine.channels import CLI_CHANNEL
    from engine.commands import Engine
    from models.db import Database

    from .conftest import migrate_to
    migrate_to(blank_url, "0024")
    old = Database(blank_url)
    prev = audit.GENESIS_HASH
    with old.engine.begin() as conn:  # as 0024 wrote them: recorded_at, no channel, a 9-field hash
        for seq in (1, 2):
            at = datetime(2026, 1, seq, 2, tzinfo=timezone.utc)
            payload = json.dumps({"code": f"g{seq}", "display_name": f"旧角色{seq}"})
            digest = audit.event_hash(seq, at, "system", "group_added", None, None, payload, prev, at)
            conn.execute(text("INSERT INTO audit_events (seq, occurred_at, actor, event_type, instance_id, task_id, "
                              "payload, prev_hash, hash, recorded_at) VALUES (:seq, :at, 'system', 'group_added', "
                              "NULL, NULL, :payload, :prev, :hash, :at)"),
                         {"seq": seq, "at": at, "payload": payload, "prev": prev, "hash": digest})
            prev = digest
        conn.execute(text("UPDATE audit_head SET last_seq = 2, last_hash = :h"), {"h": prev})
    old.dispose()

    db = Database(blank_url)
    db.upgrade()
    Engine(db).via(CLI_CHANNEL).add_group("g3", "升级之后")
    with db.reader() as s:
        assert [(e.seq, e.channel) for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()] == [
            (1, None), (2, None), (3, "cli")]
        assert verify(s).ok
        listed = planless_events(s)["events"]
    assert [(e["seq"], channels.said(e["channel"], e["token_id"])) for e in listed] == [
        (3, "命令行"), (2, "未记录"), (1, "未记录")]
    with pytest.raises(RuntimeError, match="channel"):  # event 3 would no longer verify
        migrate_to(blank_url, "0024", command.downgrade)
    db.upgrade()
    tamper(db, "UPDATE audit_events SET channel = NULL WHERE seq = 3")  # strip it
    with db.reader() as s:
        assert any("event 3: content does not match" in p for p in verify(s).problems)
    db.dispose()
