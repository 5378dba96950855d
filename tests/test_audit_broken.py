"""A broken or cut-back trail as the auditor reads it (QA auditor findings 3, 5, 6, 8): a check compares
the trail with the latest earlier check that found it intact, so a trail cut back (newest events
deleted, head set back) is no longer reported intact on the web; a broken trail says what to do; a
forged comment event is not explained as a deleted comment; one missing event is said as one."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from engine import audit_checks, display
from engine.audit import verify
from engine.cli import main
from models import AuditEvent

from .test_audit import cut_back_to, tamper
from .test_audit_checks import trail  # noqa: F401 - a trail of a few dozen events, and an auditor
from .web_helper import page_text, signed_in_client

WEB_ADVICE = ("请保持数据库原样：不要修复、删改任何记录，以免毁掉证据，并请系统管理员先复制保存一份数据库。将上面列出的事件与此前导出保存的"
              "审计记录和锚点核对，查明改动了什么、从何时起。立即报告系统管理员和改革办负责同志。证据保全之后，才可从备份恢复。")


def _events(engine) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _checked(engine, who: str = "feng") -> dict:
    return audit_checks.run(engine, audit_checks.start(engine, who)["id"], every=0)


def _verify_cli(engine, code: int):
    result = CliRunner().invoke(main, ["--db", engine.db.url, "audit", "verify"])
    assert result.exit_code == code, result.output
    return result


def test_a_trail_cut_back_before_the_last_check_is_not_intact(trail):  # noqa: F811
    first = _checked(trail)
    seen, head = first["result"]["events"], first["result"]["head_hash"]
    cut_back_to(trail.db, seen - 2)  # and the check's own audit_verified event with it
    again = _checked(trail)["result"]
    when = display.minute(first["finished_at"])
    assert not again["ok"]
    assert again["problems"][0] == (
        f"上次校验（{when}，冯敏（feng））时审计记录有 {seen} 个事件，末端哈希 {head[:16]}…；现只有 {seen - 2} 个："
        f"审计记录可能被截断 (the last check, {when}, by feng, found {seen} events ending in hash {head[:16]}…; "
        f"now there are only {seen - 2}: the trail may have been cut)")
    # the user the cut events added is still there: the records say so too (QA auditor finding 1)
    assert "用户 feng 仍在数据库中，却没有 user_added 事件" in "".join(again["problems"][1:])
    assert again["earlier"]["check_id"] == first["id"] and again["earlier"]["status"] == "missing"
    # the command line reads the same checks, without an anchor
    shown = _verify_cli(trail, 1)
    assert f"上次校验（{when}，冯敏（feng））时审计记录有 {seen} 个事件" in shown.stdout


def test_a_trail_grown_since_the_last_check_says_it_matches(trail):  # noqa: F811
    first = _checked(trail)
    trail.add_group("later", "后来的角色")
    second = _checked(trail, "chen")
    again = second["result"]
    assert again["ok"] and again["earlier"]["status"] == "ok" and again["earlier"]["check_id"] == first["id"]
    assert again["earlier"]["appended_after"] == 2  # the check's own event, and the group
    # the command line compares with the latest, chen's; its own audit_verified event came since
    when = display.minute(second["finished_at"])
    assert (f"与上次校验（{when}，陈静（chen））相符：事件 {again['events']} 未被改动，其后追加了 1 个事件 (matches the "
            f"last check, {when}, by chen: event {again['events']} unchanged; 1 event(s) appended since)"
            in _verify_cli(trail, 0).stdout.splitlines())


def test_the_end_the_last_check_saw_rewritten_is_named(trail):  # noqa: F811
    first = _checked(trail)
    seen = first["result"]["events"]
    tamper(trail.db, "UPDATE audit_events SET hash = :forged WHERE seq = :seq", forged="ab" * 32, seq=seen)
    problems = _checked(trail)["result"]["problems"]
    assert any(p.startswith(f"上次校验（{display.minute(first['finished_at'])}，冯敏（feng））时事件 {seen} 的哈希为 "
                            f"{first['result']['head_hash'][:16]}…，现为 abababababababab…：该事件或之前的事件被改写")
               for p in problems), problems


def test_a_broken_trail_says_what_to_do_next(trail):  # noqa: F811
    from engine.cli.audit import BROKEN_ADVICE
    tamper(trail.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    shown = _verify_cli(trail, 1)
    assert shown.stderr.endswith("problem(s))\n" + BROKEN_ADVICE + "\n")
    assert BROKEN_ADVICE.startswith("请保持数据库原样：不要修复、删改任何记录，以免毁掉证据")
    assert "改革办负责同志" in BROKEN_ADVICE and "证据保全之后，才可从备份恢复" in BROKEN_ADVICE


def test_one_missing_event_is_said_as_one_and_two_as_a_range(trail):  # noqa: F811
    tamper(trail.db, "DELETE FROM audit_events WHERE seq = 5")
    with trail.db.reader() as s:
        assert "事件 5 缺失 (event 5 missing: sequence jumps to 6)" in verify(s).problems
    tamper(trail.db, "DELETE FROM audit_events WHERE seq IN (9, 10)")
    with trail.db.reader() as s:
        assert "事件 9–10（共 2 个）缺失 (events 9–10 missing: sequence jumps to 11)" in verify(s).problems


def test_a_forged_comment_event_is_not_explained_as_a_deleted_comment(trail):  # noqa: F811
    """An event inserted by hand at the end (its hash made up, the head moved): no comment 99 ever
    existed, so the event is what is in question."""
    with trail.db.reader() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        seq, prev = last.seq + 1, last.hash
    tamper(trail.db, "INSERT INTO audit_events (seq, occurred_at, recorded_at, actor, event_type, payload, prev_hash, "
                     "hash) VALUES (:seq, :at, :at, 'liu', 'comment_added', :payload, :prev, :hash)",
           "UPDATE audit_head SET last_seq = :seq, last_hash = :hash",
           seq=seq, at=last.recorded_at, payload=json.dumps({"new": {"id": 99, "text": "同意"}}), prev=prev, hash="ab" * 32)
    with trail.db.reader() as s:
        problems = verify(s).problems
    assert f"审计事件 {seq} 登记的留言 99 已不存在，被删除 (comment 99 of audit event {seq} is gone: it was deleted)" not in problems
    assert (f"审计事件 {seq} 登记的留言 99 不存在，而该事件本身与其哈希不符：该事件可能是伪造或插入的，而非留言被删除 (comment 99 "
            f"of audit event {seq} does not exist, and the event itself does not match its hash: the event may have "
            "been forged or inserted, rather than the comment deleted)") in problems


def test_the_off_clock_note_speaks_to_a_web_user(demo_engine):
    with demo_engine.db.reader() as s:
        [note] = verify(s).notes
    assert "--now" not in note and "fixed clock" not in note
    assert "即以实际以外的日期录入（人工指定日期，或演示数据）" in note
    assert "entered with a date other than the real one (a date set by hand, or the demo data)" in note


def test_the_web_check_names_the_cut_and_says_what_to_do(demo_engine):
    feng = signed_in_client(demo_engine, "feng")
    first = feng.post("/audit/verify", follow_redirects=True).get_data(as_text=True)
    seen = _events(demo_engine) - 1  # what it checked: before its own audit_verified event
    assert f"审计记录完好：{seen} 个事件" in first
    with demo_engine.db.reader() as s:  # the demo's last tasks (their ids depend on the day it is made)
        lost = s.execute(select(AuditEvent.task_id).where(AuditEvent.seq > seen - 3, AuditEvent.event_type == "task_created")
                         .order_by(AuditEvent.task_id)).scalars().all()
    assert len(lost) == 2
    cut_back_to(demo_engine.db, seen - 3)
    page = feng.post("/audit/verify", follow_redirects=True).get_data(as_text=True)
    # the cut, and the two tasks whose task_created events went with it (QA auditor finding 1)
    assert "审计记录已损坏：发现 2 处问题。" in page
    assert f"待办 {lost[0]}、{lost[1]} 仍在数据库中，却没有 task_created 事件" in page
    assert f"时审计记录有 {seen} 个事件，末端哈希" in page and f"；现只有 {seen - 3} 个：审计记录可能被截断" in page
    assert WEB_ADVICE in page
    feng.post("/language/en")
    page = feng.get("/audit").get_data(as_text=True)
    assert f"found {seen} events ending in hash" in page and "Keep the database as it is" in page
    assert "--now" not in page


def test_a_web_export_of_a_broken_trail_says_so_on_the_audit_page(demo_engine):
    """The web's download streams: once the file is on its way there is no page to warn on, and
    `audit export` warned only on the command line. The export's record keeps what it saw, and the
    audit page shows it (the operator audit of 6 December 2026)."""
    feng = signed_in_client(demo_engine, "feng")
    feng.get("/audit/export.jsonl").get_data()
    page = page_text(feng.get("/audit"))
    assert "上次导出：" in page and "冯敏（feng），全部记录" in page
    assert "上次导出时发现审计记录已损坏" not in page
    tamper(demo_engine.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    exported = feng.get("/audit/export.csv").get_data(as_text=True)
    assert "mallory" in exported  # the evidence is written all the same
    with demo_engine.db.reader() as s:
        record = json.loads(s.execute(select(AuditEvent.payload).where(AuditEvent.event_type == "audit_exported")
                                      .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one())
    assert record["broken"] == {"seq": 3, "events": 1, "zh": "事件 3 的内容与其哈希不符",
                                "en": "event 3 does not match its hash"}
    warning = ("导出时发现审计记录已损坏，首个问题：事件 3 的内容与其哈希不符（共 1 处）。导出的文件已照常写出，请作为证据保存，"
               "并点击上方“校验哈希链”查明全部问题及处理办法。")
    page = page_text(feng.get("/audit"))
    assert f"冯敏（feng） {warning}" in page
    # a clean export of one plan taken afterwards does not hide it (the review of 6 December 2026)
    feng.get("/audit/export.jsonl?plan=1").get_data()
    page = page_text(feng.get("/audit"))
    assert "冯敏（feng），方案 1" in page and warning in page
    feng.post("/language/en")
    page = page_text(feng.get("/audit"))
    assert "first problem: event 3 does not match its hash (1 in all)" in page


def test_the_command_lines_export_of_a_broken_trail_is_recorded_as_such(trail):  # noqa: F811
    tamper(trail.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    result = CliRunner().invoke(main, ["--db", trail.db.url, "audit", "export", "--as", "feng"])
    assert result.exit_code == 0 and "警告：审计记录已损坏，首个问题：事件 2 的内容与其哈希不符" in result.stderr
    with trail.db.reader() as s:
        record = json.loads(s.execute(select(AuditEvent.payload).where(AuditEvent.event_type == "audit_exported")
                                      .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one())
    assert record["broken"]["seq"] == 2 and record["via"] == "cli"
    from engine.trail_text import said
    event = {"event_type": "audit_exported", "payload": record, "name": None}
    assert said(event, "zh").endswith("，发现审计记录已损坏，首个问题：事件 2 的内容与其哈希不符")
    assert said(event, "en").endswith(", found the trail broken, first: event 2 does not match its hash")
