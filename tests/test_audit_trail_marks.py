"""A plan's trail as people read it (`reformflow history`, the plan page's 办理经过) checks each line
against its own hash: an event changed in the database is marked, never shown as fact (QA auditor
finding 2: a forged 退回理由 was shown on both while `audit verify` named the event)."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from models import AuditEvent, ProcessInstance

from .test_audit import tamper
from .web_helper import signed_in_client

MARK_ZH = "⚠ 此记录与其哈希不符，可能被改动，请勿采信，并请审计人员核查"
MARK_EN = ("⚠ This record does not match its hash: it may have been changed; do not rely on it, "
           "and have an auditor check it")


def _forged_completion(engine) -> tuple[int, int, str]:
    """Plan DT-2015-02's first completion with its actor rewritten in the database, triggers off:
    (plan id, event seq, the forged actor's name)."""
    with engine.db.reader() as s:
        plan_id = s.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == "DT-2015-02")).scalar_one()
        seq = s.execute(select(AuditEvent.seq).where(AuditEvent.instance_id == plan_id,
                                                     AuditEvent.event_type == "task_completed")
                        .order_by(AuditEvent.seq)).scalars().first()
    tamper(engine.db, "UPDATE audit_events SET actor = 'wang' WHERE seq = :seq", seq=seq)
    return plan_id, seq, "王芳 (wang)"


def test_history_marks_the_line_whose_event_no_longer_matches_its_hash(demo_engine):
    plan_id, seq, forged = _forged_completion(demo_engine)
    shown = CliRunner().invoke(main, ["--db", demo_engine.db.url, "history", str(plan_id)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    marked = [i for i, line in enumerate(lines) if line.startswith("    ⚠")]
    assert len(marked) == 1  # that line only: the others match their hashes
    assert forged in lines[marked[0] - 1] and "提交 (completed)" in lines[marked[0] - 1]
    assert lines[marked[0]] == (f"    {MARK_ZH} (this record does not match its hash: it may have been changed; "
                                "do not rely on it, and have an auditor check it)")
    assert shown.stderr == (f"reformflow: 事件 {seq} 与其哈希不符，所示内容可能被改动；请审计人员运行 reformflow audit verify 核查 "
                            f"(event(s) {seq} do not match their hashes: what is shown may have been changed; have an "
                            "auditor run reformflow audit verify)\n")
    as_json = json.loads(CliRunner().invoke(main, ["--db", demo_engine.db.url, "history", str(plan_id), "--json"]).stdout)
    assert [e["seq"] for e in as_json["events"] if not e["intact"]] == [seq]
    assert all(e["intact"] is True for e in as_json["events"] if e["seq"] != seq)


def test_an_untouched_trail_has_no_mark(demo_engine):
    shown = CliRunner().invoke(main, ["--db", demo_engine.db.url, "history", "2"])
    assert shown.exit_code == 0 and "⚠" not in shown.stdout and shown.stderr == ""


def test_the_plan_page_marks_the_line_in_its_language(demo_engine):
    plan_id, seq, _ = _forged_completion(demo_engine)
    client = signed_in_client(demo_engine, "feng")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert page.count('class="untrusted"') == 1 and f'data-seq="{seq}"' in page
    assert f'<strong class="verdict broken" role="alert">{MARK_ZH}</strong>' in page
    client.post("/language/en")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert f'<strong class="verdict broken" role="alert">{MARK_EN}</strong>' in page
