"""The engine's commands on a small approval diagram, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine.audit import verify
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.queries import list_tasks
from models import AuditEvent, ProcessDefinition, ProcessInstance

from .conftest import FIXTURES, read
from .plan_helper import fired_ids

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"


@pytest.fixture
def deployed(engine, people):
    engine.deploy([read(MINI)])
    return people


def start(engine, user="zhang", **kw):
    return engine.start("mini_approval", actor=user, title="测试方案", **kw)


def tasks(engine, user, scope="all", instance_id=None):
    with engine.db.reader() as s:
        return list_tasks(s, user, scope, instance_id)


def audit_types(engine, instance_id):
    with engine.db.reader() as s:
        return [e.event_type for e in s.execute(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)).scalars()]


def test_start_gives_the_drafter_a_task_with_assignee_and_due_date(engine, deployed, at):
    with at("2026-01-31T10:00:00"):
        plan = start(engine, business_key="DT-2026-01")
    assert plan["status"] == "running" and plan["business_key"] == "DT-2026-01"
    [task] = plan["tasks"]
    assert (task["element_id"], task["assignee"], task["status"]) == ("Task_Draft", "zhang", "claimed")
    # camunda:dueDate="P7D" from 31 Jan 10:00 China time
    assert task["due_at"] == "2026-02-07T02:00:00+00:00"
    assert plan["variables"]["initiator"] == "zhang"
    assert [t["id"] for t in tasks(engine, "zhang", "mine")] == [task["id"]]


def test_review_task_due_in_working_days_and_candidate_groups_parsed(engine, deployed, at):
    with at("2025-09-26T09:00:00"):  # Friday before National Day 2025
        plan = start(engine)
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "方案摘要"})
    review = tasks(engine, "li", "claimable")[0]
    assert review["candidate_groups"] == ["legal", "reform_office"]
    assert review["priority"] == 70
    # 15 working days after Fri 2025-09-26: Sun 28 Sep and Sat 11 Oct are swapped working days,
    # 1–8 Oct are off: 28, 29, 30 Sep, 9, 10, 11, 13–17, 20–23 Oct -> 2025-10-23, due at the end
    # of that day China time.
    assert review["due_at"] == "2025-10-23T16:00:00+00:00"


def test_form_validation_lists_every_problem_and_changes_nothing(engine, deployed):
    plan = start(engine)
    task_id = plan["tasks"][0]["id"]
    with pytest.raises(Invalid) as err:
        engine.complete(task_id, actor="zhang", data={"summary": "", "days": "3", "colour": "red"})
    problems = {(d["field"], d["code"]) for d in err.value.details}
    assert problems == {("summary", "required"), ("days", "constraint"), ("colour", "unknown")}
    assert "「方案摘要」(summary) 为必填项" in err.value.message
    with pytest.raises(Invalid) as err:
        engine.complete(task_id, actor="zhang", data={"summary": "x" * 201, "days": "thirty"})
    assert {(d["field"], d["code"]) for d in err.value.details} == {("summary", "constraint"), ("days", "type")}
    after = engine.instance(plan["id"])
    assert after["tasks"][0]["status"] == "claimed"
    assert "task_completed" not in audit_types(engine, plan["id"])


def test_form_data_is_at_most_64_kb_as_start_data_is(engine, deployed):
    """A string field without maxlength (returnReason) took any size into the plan."""
    plan = start(engine)
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "初稿"})
    review = tasks(engine, "li", "claimable")[0]
    engine.claim(review["id"], actor="li")
    with pytest.raises(Invalid, match=r"^表单数据过大 \(form data larger than 64 KB\)$"):
        engine.complete(review["id"], actor="li", data={"decision": "return", "returnReason": "x" * 70_000})
    assert "returnReason" not in engine.instance(plan["id"])["variables"]
    engine.complete(review["id"], actor="li", data={"decision": "return", "returnReason": "x" * 20_000})


def test_data_nested_too_deeply_is_refused(engine, deployed):
    """900 levels fit in 64 KB: the plan started, then every complete on it was a RecursionError."""
    deep = {"xs": json.loads("[" * 900 + "]" * 900)}
    with pytest.raises(Invalid, match=r"^启动数据嵌套超过 32 层 \(start data is nested more than 32 deep\)$"):
        start(engine, data=deep)
    # a process that reads a list (here its return condition) takes one 30 deep at start
    engine.deploy([("mini_approval.bpmn", MINI.read_bytes().replace(b"!empty returnReason}", b"!empty returnReason &amp;&amp; empty xs}"))])
    plan = start(engine, data={"xs": json.loads("[" * 30 + "]" * 30)})
    with pytest.raises(Invalid, match=r"\(form data is nested more than 32 deep\)$"):
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": deep["xs"]})
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "初稿"})


def test_enum_value_must_be_one_of_the_options(engine, deployed):
    plan = start(engine)
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    review = tasks(engine, "li", "claimable")[0]
    engine.claim(review["id"], actor="li")
    with pytest.raises(Invalid) as err:
        engine.complete(review["id"], actor="li", data={"decision": "maybe"})
    assert "approve（通过）" in err.value.message


def test_claim_rules(engine, deployed):
    plan = start(engine)
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    review = tasks(engine, "li", "claimable")[0]
    with pytest.raises(Forbidden):
        engine.claim(review["id"], actor="zhou")  # the risk assessor is not a candidate
    with pytest.raises(Forbidden):
        engine.complete(review["id"], actor="li", data={"decision": "approve"})  # not claimed yet
    engine.claim(review["id"], actor="li")
    with pytest.raises(Conflict) as err:
        engine.claim(review["id"], actor="chen")  # reform office is a candidate too, but too late
    assert "li" in err.value.message
    with pytest.raises(Forbidden):
        engine.complete(review["id"], actor="chen", data={"decision": "approve"})
    with pytest.raises(Forbidden):
        engine.unclaim(review["id"], actor="zhou")
    engine.unclaim(review["id"], actor="li")
    assert tasks(engine, "chen", "claimable")[0]["id"] == review["id"]
    with pytest.raises(Forbidden):
        engine.assign(review["id"], to="li", actor="zhang")  # only the reform office assigns
    assigned = engine.assign(review["id"], to="li", actor="chen")
    assert (assigned["assignee"], assigned["status"]) == ("li", "claimed")
    # taking a task from the one who holds it must be meant: the office may have seen it open
    with pytest.raises(Conflict, match="--reassign"):
        engine.assign(review["id"], to="chen", actor="chen")
    assert engine.assign(review["id"], to="chen", actor="chen", reassign=True)["assignee"] == "chen"
    engine.assign(review["id"], to="li", actor="chen", reassign=True)
    engine.complete(review["id"], actor="li", data={"decision": "approve"})
    with pytest.raises(Conflict):
        engine.complete(review["id"], actor="li", data={"decision": "approve"})
    assert engine.instance(plan["id"])["status"] == "completed"
    types = audit_types(engine, plan["id"])
    for expected in ("instance_started", "task_created", "task_claimed", "task_unclaimed",
                     "task_assigned", "task_completed", "instance_ended"):
        assert expected in types


def test_return_loops_back_to_drafting_with_the_reason_kept(engine, deployed):
    plan = start(engine)
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "初稿"})
    review = tasks(engine, "li", "claimable")[0]
    engine.claim(review["id"], actor="li")
    engine.complete(review["id"], actor="li", data={"decision": "return", "returnReason": "缺少资金测算"})
    view = engine.instance(plan["id"])
    assert [t["element_id"] for t in view["tasks"]] == ["Task_Draft"]
    assert view["variables"]["returnReason"] == "缺少资金测算"
    with engine.db.reader() as s:
        completed = [json.loads(e.payload) for e in s.execute(select(AuditEvent).where(
            AuditEvent.event_type == "task_completed").order_by(AuditEvent.seq)).scalars()]
    assert completed[-1]["new"]["returnReason"] == "缺少资金测算"


def test_unknown_things_are_not_found(engine, deployed):
    with pytest.raises(NotFound):
        engine.start("no_such_process", actor="zhang")
    with pytest.raises(NotFound):
        engine.claim(999, actor="li")
    with pytest.raises(NotFound):
        engine.instance(999)
    with pytest.raises(Forbidden):
        engine.start("mini_approval", actor="nobody")


def test_business_key_is_unique(engine, deployed):
    start(engine, business_key="K-1")
    with pytest.raises(Conflict) as used:
        start(engine, business_key="K-1")
    # what to do next, not only that it is taken
    assert used.value.message.startswith("业务编号 K-1 已被使用：请换一个编号，或留空；已有的方案可在方案列表中按此编号查找")


def test_a_business_key_written_composed_or_decomposed_is_one_key(engine, deployed):
    """`é` as one character or as `e` and a combining accent looks the same: two plans must not
    take the two spellings; the key is kept composed, and found by either."""
    from click.testing import CliRunner

    from engine.cli import main
    composed, decomposed = "K-\u00e9", "K-e\u0301"
    plan = start(engine, business_key=decomposed)
    assert engine.instance(plan["id"])["business_key"] == composed
    with pytest.raises(Conflict):
        start(engine, business_key=composed)
    for spelled in (composed, decomposed):
        shown = CliRunner().invoke(main, ["--db", engine.db.url, "instance", spelled, "--json"])
        assert shown.exit_code == 0, shown.output
        assert f'"id": {plan["id"]}' in shown.output


@pytest.mark.parametrize("given", [{"initiator": "li"}, {"businessKey": "K-9"}])
def test_start_data_cannot_name_the_starter_or_the_business_key(engine, deployed, given):
    """They were overwritten without a word: a client sending `initiator` believed it had started
    the plan for someone else."""
    with pytest.raises(Invalid, match="由系统设定") as refused:
        engine.start("mini_approval", actor="zhang", data=given)
    assert next(iter(given)) in str(refused.value)
    with engine.db.reader() as s:  # nothing started
        assert s.execute(select(func.count()).select_from(ProcessInstance)).scalar() == 0


def test_deploy_versions(engine, deployed):
    v1_plan = start(engine)
    [again] = engine.deploy([read(MINI)])
    assert (again["version"], again["status"]) == (1, "unchanged")
    changed = MINI.read_bytes().replace(b'name="\xe5\xae\xa1\xe6\xa0\xb8"', b'name="\xe5\xa4\x8d\xe6\xa0\xb8"')  # 审核 -> 复核
    assert changed != MINI.read_bytes()
    [v2] = engine.deploy([("mini_approval.bpmn", changed)])
    assert (v2["version"], v2["status"]) == (2, "created")
    v2_plan = start(engine)
    assert engine.instance(v1_plan["id"])["definition_version"] == 1
    assert v2_plan["definition_version"] == 2
    engine.complete(v1_plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    assert engine.instance(v1_plan["id"])["tasks"][0]["name"] == "审核"  # still version 1
    engine.complete(v2_plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    assert engine.instance(v2_plan["id"])["tasks"][0]["name"] == "复核"


BAD = {
    "condition": (b"${decision == 'return' &amp;&amp; !empty returnReason}",
                  b"${__import__('os').system('id')}", "Flow_Return"),
    "due date": (b'camunda:dueDate="${workingDays(15)}"', b'camunda:dueDate="${open(\'/etc/passwd\')}"', "Task_Review"),
    "priority": (b'camunda:priority="70"', b'camunda:priority="${().__class__}"', "Task_Review"),
}


@pytest.mark.parametrize("what", sorted(BAD))
def test_diagrams_with_code_are_refused_at_deploy(engine, people, what):
    old, new, element = BAD[what]
    data = MINI.read_bytes()
    assert old in data
    with pytest.raises(Invalid) as err:
        engine.deploy([("evil.bpmn", data.replace(old, new))])
    assert "evil.bpmn" in err.value.message and element in err.value.message
    with engine.db.reader() as s:
        assert s.execute(select(ProcessDefinition)).first() is None


def test_timer_and_script_with_code_are_refused(engine, people):
    timer = (FIXTURES / "diagrams" / "deadline_months.bpmn").read_bytes().replace(
        b"${wait}", b"${__import__('os').getcwd()}")
    with pytest.raises(Invalid) as err:
        engine.deploy([("timer.bpmn", timer)])
    assert "Event_Deadline" in err.value.message
    script = MINI.read_bytes().replace(
        b'<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Draft" targetRef="Task_Review" />',
        b'<bpmn:scriptTask id="Task_Script" scriptFormat="python"><bpmn:script>import os\nos.system("id")</bpmn:script></bpmn:scriptTask>'
        b'<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Draft" targetRef="Task_Review" />')
    with pytest.raises(Invalid) as err:
        engine.deploy([("script.bpmn", script)])
    assert "Task_Script" in err.value.message and "script.bpmn" in err.value.message


def test_doctype_and_entities_are_refused(engine, people):
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
            + MINI.read_bytes().split(b"?>", 1)[1])
    with pytest.raises(Invalid) as err:
        engine.deploy([("lolz.bpmn", evil)])
    assert "lolz.bpmn" in err.value.message and "DOCTYPE" in err.value.message
    external = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                + MINI.read_bytes().split(b"?>", 1)[1].replace(b"\xe8\xb5\xb7\xe8\x8d\x89", b"&x;"))
    with pytest.raises(Invalid):
        engine.deploy([("xxe.bpmn", external)])


def test_deploy_is_all_or_nothing(engine, people):
    good = read(MINI)
    bad = ("bad.bpmn", b"<not-bpmn")
    with pytest.raises(Invalid) as err:
        engine.deploy([good, bad])
    assert "bad.bpmn" in err.value.message
    with engine.db.reader() as s:
        assert s.execute(select(ProcessDefinition)).first() is None


def test_month_deadline_fires_at_end_of_february_exactly_once(engine, people, at):
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_months.bpmn")])
    with at("2026-01-31T10:00:00"):
        plan = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})
    # one calendar month after 31 January is 28 February, not 3 March
    assert plan["next_timer_at"] == "2026-02-28T02:00:00+00:00"
    with at("2026-02-28T09:59:00"):
        assert engine.fire_due_timers() == []
    with at("2026-02-28T10:01:00"):
        fired = engine.fire_due_timers()
        assert fired_ids(fired) == [{"instance_id": plan["id"], "timers": ["Event_Deadline"]}]
        assert engine.fire_due_timers() == []
    view = engine.instance(plan["id"])
    assert [t["element_id"] for t in view["tasks"]] == ["Task_Escalate"]  # interrupting: draft task gone
    types = audit_types(engine, plan["id"])
    assert types.count("timer_fired") == 1 and "task_cancelled" in types


def test_a_backlog_of_due_timers_is_fired_in_one_call_batch_by_batch(engine, people, at):
    """After the worker was down: more plans are due than one batch holds."""
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_months.bpmn")])
    with at("2026-01-31T10:00:00"):
        plans = [engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})["id"] for _ in range(5)]
    batches = []
    with at("2026-03-05T09:00:00"):
        fired = engine.fire_due_timers(batch=2, progress=batches.append)
        assert engine.fire_due_timers(batch=2) == []
    assert fired_ids(fired) == [{"instance_id": plan, "timers": ["Event_Deadline"]} for plan in plans]
    assert batches == [2, 4]  # told after each full batch; the last one held a single plan
    for plan in plans:
        assert audit_types(engine, plan).count("timer_fired") == 1


def test_a_plan_whose_timer_keeps_failing_is_tried_less_and_less_often(engine, people, at):
    """A broken plan stays broken until someone mends it: the worker tries it a minute later,
    then twice as long each time, at most hourly, and the plans due after it fire meanwhile."""
    xml = (FIXTURES / "diagrams" / "deadline_months.bpmn").read_text(encoding="utf-8")
    broken = xml.replace('camunda:candidateGroups="reform_office"', 'camunda:candidateGroups="${1 / zero}"')
    engine.deploy([("deadline_months.bpmn", broken.encode("utf-8"))])
    with at("2026-01-31T10:00:00"):
        bad = engine.start("deadline_months", actor="zhang", data={"wait": "P1M", "zero": 0})["id"]
    engine.deploy([("deadline_months.bpmn", xml.encode("utf-8"))])  # later plans run the fixed version
    failures = []

    def fire(when: str) -> list[dict]:
        with at(when):
            return engine.fire_due_timers(on_error=lambda plan, exc, retry: failures.append((plan, exc.kind, retry)))

    assert fire("2026-03-05T09:00:00") == []
    [(plan, kind, retry)] = failures
    assert (plan, kind, retry.attempts) == (bad, "invalid", 1)
    assert retry.next_try == datetime.fromisoformat("2026-03-05T09:01:00+08:00")
    with at("2026-03-05T09:00:10"):
        good = engine.start("deadline_months", actor="zhang", data={"wait": "PT10S"})["id"]
    # before its next try the broken plan is left alone; the good one due meanwhile fires
    assert fired_ids(fire("2026-03-05T09:00:30")) == [{"instance_id": good, "timers": ["Event_Deadline"]}]
    assert len(failures) == 1
    delays, when = [], retry.next_try
    for _ in range(8):
        fire(when.isoformat())
        retry = failures[-1][2]
        delays.append(int((retry.next_try - when).total_seconds() // 60))
        when = retry.next_try
    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]  # minutes, doubling up to an hour
    assert failures[-1][2].attempts == 9
    # it changed nothing: the plan still waits where it was, its timer still due
    assert [t["element_id"] for t in engine.instance(bad)["tasks"]] == ["Task_Wait"]
    assert "timer_fired" not in audit_types(engine, bad)


def test_working_day_deadline_skips_national_day(engine, people, at):
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_workdays.bpmn")])
    with at("2025-09-30T15:00:00"):
        plan = engine.start("deadline_workdays", actor="zhang", data={"days": 3})
    # 3 working days after 30 Sep 2025: 9, 10, 11 Oct (11 Oct is a swapped working Saturday)
    assert plan["next_timer_at"] == "2025-10-11T16:00:00+00:00"
    with at("2025-10-11T23:00:00"):
        assert engine.fire_due_timers() == []
    with at("2025-10-12T00:00:01"):
        assert len(engine.fire_due_timers()) == 1
    names = sorted(t["element_id"] for t in engine.instance(plan["id"])["tasks"])
    assert names == ["Task_Escalate", "Task_Wait"]  # non-interrupting: both remain


def test_failing_expression_at_run_time_refuses_the_action_and_changes_nothing(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_months.bpmn")])
    with pytest.raises(Invalid) as err:
        engine.start("deadline_months", actor="zhang", data={})  # no "wait" variable
    assert "Event_Deadline" in err.value.message and "wait" in err.value.message
    with engine.db.reader() as s:
        assert s.execute(text("select count(*) from process_instances")).scalar() == 0


def test_audit_verify_detects_changed_removed_and_inserted_events(engine, deployed):
    plan = start(engine)
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    with engine.db.reader() as s:
        result = verify(s)
        assert result.ok and result.events >= 8
    is_pg = not engine.db.is_sqlite
    with engine.db.engine.begin() as conn:
        with pytest.raises(DBAPIError, match="append-only"):  # the database itself refuses edits
            with conn.begin_nested():
                conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    def tamper(sql):
        with engine.db.engine.begin() as conn:
            if is_pg:
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            conn.execute(text(sql))
            if is_pg:
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    with engine.db.reader() as s:
        done = s.execute(text("SELECT seq FROM audit_events WHERE event_type = 'task_completed'")).scalar()
        last = s.execute(text("SELECT max(seq) FROM audit_events")).scalar()
    tamper(f"UPDATE audit_events SET payload = replace(payload, '\"s\"', '\"forged\"') WHERE seq = {done}")
    with engine.db.reader() as s:
        result = verify(s)
    assert not result.ok
    assert result.problems == [f"事件 {done} 的内容与其哈希不符，该事件被改动 (event {done}: content does not "
                               "match its hash: the event was changed)"]
    tamper("DELETE FROM audit_events WHERE seq = 6")
    with engine.db.reader() as s:
        assert any("event 6 missing: sequence jumps to 7" in p for p in verify(s).problems)
    tamper("INSERT INTO audit_events (seq, occurred_at, actor, event_type, payload, prev_hash, hash) "
           "VALUES (6, '2026-01-01 00:00:00', 'mallory', 'task_completed', '{}', 'x', 'y')")
    with engine.db.reader() as s:
        problems = verify(s).problems
    assert any("event 6:" in p for p in problems) and any("event 7:" in p and "link" in p for p in problems)
    tamper(f"DELETE FROM audit_events WHERE seq = {last}")  # cut off the newest event
    with engine.db.reader() as s:
        assert any("recorded head" in p for p in verify(s).problems)


def test_calendar_overrides_for_a_year_the_package_does_not_know(engine, deployed, at):
    with pytest.raises(Forbidden):
        engine.set_calendar_day(datetime(2027, 1, 1).date(), working=False, actor="zhang")
    with at("2026-12-31T09:00:00"):
        plan = start(engine)
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    with engine.db.reader() as s:
        [created] = [json.loads(e.payload) for e in s.execute(select(AuditEvent).where(
            AuditEvent.event_type == "task_created", AuditEvent.task_id == 2)).scalars()]
    # 2027 is unknown to chinesecalendar 1.11: the statutory holidays and weekends, and the audit trail says so
    assert created["calendar_warnings"] and "2027" in created["calendar_warnings"][0]
    review = [t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Review"][0]
    # 15 working days after 31 Dec 2026 with 1 Jan 2027 (a Friday) off by law: 4–8, 11–15, 18–22 Jan
    assert review["due_at"] == "2027-01-22T16:00:00+00:00"
    for day in ("2027-01-01", "2027-01-02", "2027-01-03"):  # as the notice says: 1月1日至3日放假, its weekend too
        engine.set_calendar_day(datetime.fromisoformat(day).date(), working=False, note="元旦", actor="chen")
    engine.set_calendar_day(datetime(2027, 1, 4).date(), working=False, note="测试：临时放假", actor="chen")
    with at("2026-12-31T09:00:00"):
        plan = start(engine)
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    review = [t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Review"][0]
    # and with 4 Jan entered off too: 5–8, 11–15, 18–22, 25 Jan
    assert review["due_at"] == "2027-01-25T16:00:00+00:00"


def test_read_only_values_a_web_form_posts_back_as_text_unchanged_are_accepted(engine, people, at):
    from .plan_helper import deploy_library
    deploy_library(engine)
    with at("2026-11-03T09:00"):
        plan = engine.start("filing", actor="chen", data={
            "pilot": False, "issueDate": "2026-11-02", "documentNumber": "同政发〔2026〕7号"})
    [filing] = plan["tasks"]
    assert (filing["element_id"], filing["assignee"]) == ("Task_FileDocument", "chen")  # the starter: the office
    posted = {"pilot": "false", "issueDate": "2026-11-02", "documentNumber": "同政发〔2026〕7号",
              "filingDate": "2026-11-20", "filingMaterials": "方案文本、起草说明"}
    with pytest.raises(Invalid) as err:  # a real change is still refused
        engine.complete(filing["id"], actor="chen", data=posted | {"pilot": "true"})
    assert [(d["field"], d["code"]) for d in err.value.details] == [("pilot", "readonly")]
    engine.complete(filing["id"], actor="chen", data=posted)
    assert engine.instance(plan["id"])["variables"]["pilot"] is False


def test_a_missing_variable_at_run_time_is_named_in_chinese_and_english(engine, people, at):
    from .plan_helper import deploy_library
    deploy_library(engine)
    with at("2026-11-03T09:00"), pytest.raises(Invalid) as err:
        engine.start("filing", actor="chen", data={"pilot": False})  # no issueDate
    message = err.value.message
    # the first element to read it: the script that sets the original deadline (计算原备案期限);
    # a timer's expression names the values it was given too (the next test)
    assert message.startswith("filing.bpmn: element Task_SetFilingDeadline (计算原备案期限): 变量 issueDate 没有值")
    assert "variable 'issueDate' is not defined" in message and "Nothing was changed" in message
    # who meets it learns whom to tell when the value is not theirs to enter
    assert "否则是流程图的问题，请告知改革办" in message and "otherwise the diagram is at fault: tell the reform office" in message
    assert ". ." not in message and "rf-timer" not in message


def test_a_refusal_at_run_time_names_the_diagram_without_the_analysts_folders(engine, people, at):
    """A file deployed as `/tmp/audit/s2/filing.bpmn` kept that path in the stored process, and a
    drafter's refusal began with it: the analyst's folders, shown to whoever met the step."""
    from .conftest import BPMN
    files = [read(p) for p in sorted(BPMN.glob("*.bpmn"))]
    files = [(f"/tmp/audit/s2/{name}" if name == "filing.bpmn" else name, data) for name, data in files]
    engine.deploy(files)
    with engine.db.reader() as s:
        stored = s.scalars(select(ProcessDefinition.spec_json).where(ProcessDefinition.key == "filing")).one()
    assert "filing.bpmn" in stored and "/tmp/audit" not in stored
    with at("2026-11-03T09:00"), pytest.raises(Invalid) as err:
        engine.start("filing", actor="chen", data={"pilot": False})  # no issueDate
    assert err.value.message.startswith("filing.bpmn: element Task_SetFilingDeadline (计算原备案期限): ")


def test_a_value_out_of_range_at_run_time_names_the_value(engine, people, at):
    from .plan_helper import Plan, deploy_library
    deploy_library(engine)
    with at("2026-11-03T09:00"):
        plan = Plan(engine)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
        with pytest.raises(Invalid) as err:
            plan.do("Task_PublicConsultation", consultationStart="9999-12-20", consultationDays=30)
    message = err.value.message
    assert message.startswith("reform_plan.bpmn: element Event_ConsultationPeriodEnds (征求意见期满): 值无效或超出范围")
    # (the form caps consultationDays at 365: a start date at the end of the calendar overflows)
    assert 'consultationDays = 30，consultationStart = "9999-12-20"' in message
    assert "${periodEnd(addDays(consultationStart, consultationDays))}" in message
    assert "值无效或超出范围：addDays() 执行失败：addDays()：结果超出支持的日期范围" in message
    assert "(addDays() failed: addDays(): result is outside the supported date range" in message
    assert engine.instance(plan.id)["tasks"] == plan.view["tasks"]  # nothing changed


def test_a_loop_of_automatic_steps_is_refused_naming_the_element(sqlite_engine, monkeypatch):
    """A script task looping through a gateway never waits for anyone: refused, in Chinese first."""
    from engine import modeler
    from .test_checks import diagram, flows
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "not in this test"))
    sqlite_engine.add_user("li", "李娜")
    sqlite_engine.deploy([("loop.bpmn", diagram(
        '<bpmn:startEvent id="StartEvent_1" />\n<bpmn:scriptTask id="Task_S" scriptFormat="python"><bpmn:script>'
        'n = 1</bpmn:script></bpmn:scriptTask>\n<bpmn:exclusiveGateway id="Gateway_1" default="Flow_3" />\n'
        '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Task_S"), ("Task_S", "Gateway_1"),
                                                     ("Gateway_1", "Task_S"), ("Gateway_1", "Event_End", "${n == 2}"))))])
    with pytest.raises(Invalid) as refused:
        sqlite_engine.start("p", actor="li")
    assert refused.value.message.startswith("loop.bpmn: element ")
    assert "流程连续自动执行了 1000 个步骤仍未停在用户任务或定时器上" in refused.value.message
    assert "(the process ran 1000 automatic steps without coming to rest" in refused.value.message
    with sqlite_engine.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM process_instances")).scalar() == 0


def test_a_process_calling_itself_is_refused_at_start(sqlite_engine, monkeypatch):
    """rself calls rself: `start` created subprocesses without end (killed after 60 s). Deploy
    refuses it now (tests/test_checks_fuzzed.py); the start's own guard stays, for one deployed before."""
    from engine import modeler
    from engine.checks import calls
    from .test_checks import simple
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "not in this test"))
    monkeypatch.setattr(calls, "_call_cycle", lambda doc, call, key: iter(()))
    sqlite_engine.add_user("li", "李娜")
    call = ('<bpmn:callActivity id="Task_A" calledElement="p"><bpmn:extensionElements><camunda:in variables="all" />'
            '<camunda:out variables="all" /></bpmn:extensionElements></bpmn:callActivity>')
    sqlite_engine.deploy([("self.bpmn", simple(call))])
    with pytest.raises(Invalid) as refused:
        sqlite_engine.start("p", actor="li")
    assert refused.value.message.startswith("self.bpmn: element Task_A: 子流程嵌套超过 30 层")
    assert "(subprocesses are nested more than 30 deep: does the process call itself?" in refused.value.message
    with sqlite_engine.db.reader() as s:
        assert s.execute(text("SELECT count(*) FROM process_instances")).scalar() == 0
