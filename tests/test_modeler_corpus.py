"""The corpus: one Camunda-Modeler-style diagram per construct analysts use (tests/fixtures/corpus/).

Each runnable diagram is deployed through the Engine and driven to its end by claim/complete
(timers by moving the clock, messages and signals through engine.events), on SQLite and
PostgreSQL, and the path it took is asserted. Each `refused_*.bpmn` is refused by `check` and by
deploy, naming the element. The table of what runs and what is refused is in docs/modeling.md.
"""
from __future__ import annotations

import json

import pytest
from lxml import etree
from sqlalchemy import select

from engine import modeler
from engine.checks import check_files
from engine.errors import Conflict, Forbidden, Invalid
from engine.events import send_message, send_signal
from engine.queries import list_tasks
from models import AuditEvent, ProcessDefinition

from .conftest import BPMN, FIXTURES, read
from .plan_helper import deploy_library, fired_ids
from .test_modeler_toolchain import requires_modeler

CORPUS = FIXTURES / "corpus"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
RUNNABLE = sorted(p.name for p in CORPUS.glob("*.bpmn") if not p.name.startswith("refused_"))
REFUSED = sorted(p.name for p in CORPUS.glob("refused_*.bpmn"))


# --------------------------------------------------------------------------- helpers

class Elements:
    """Element ids of a corpus file by name (`E["审核"]`), so tests read like the diagram."""

    def __init__(self, file_name: str):
        root = etree.parse(str(CORPUS / file_name)).getroot()
        self.by_name: dict[str, list[str]] = {}
        for el in root.iter(f"{{{BPMN_NS}}}*"):
            if el.get("name") and el.get("id") and not el.tag.endswith(("}process", "}sequenceFlow", "}message",
                                                                         "}signal", "}error", "}escalation")):
                self.by_name.setdefault(el.get("name"), []).append(el.get("id"))

    def __getitem__(self, name: str) -> str:
        ids = self.by_name[name]
        assert len(ids) == 1, f"{name} names {ids}"
        return ids[0]

    def all(self, name: str) -> list[str]:
        return self.by_name[name]



def _fired(engine) -> list[dict]:
    return fired_ids(engine.fire_due_timers())


def deploy(engine, *names):
    return engine.deploy([read(CORPUS / n) for n in names])


def open_tasks(engine, plan_id) -> list[dict]:
    return engine.instance(plan_id)["tasks"]


def task_at(engine, plan_id, element_id) -> dict:
    found = [t for t in open_tasks(engine, plan_id) if t["element_id"] == element_id]
    assert found, f"no open task {element_id}; open: {[t['element_id'] for t in open_tasks(engine, plan_id)]}"
    return found[0]


def work(engine, plan_id, element_id, user, data=None) -> dict:
    """Claim (if needed) and complete the open task at element_id as user."""
    task = task_at(engine, plan_id, element_id)
    if task["status"] == "open":
        engine.claim(task["id"], actor=user)
    return engine.complete(task["id"], actor=user, data=data or {})


def audit(engine, plan_id) -> list[tuple[str, dict]]:
    with engine.db.reader() as s:
        return [(e.event_type, json.loads(e.payload)) for e in s.execute(
            select(AuditEvent).where(AuditEvent.instance_id == plan_id).order_by(AuditEvent.seq)).scalars()]


def created(engine, plan_id) -> list[str]:
    """Element ids of every user task the plan created, in order: the path it took."""
    return [p["element_id"] for t, p in audit(engine, plan_id) if t == "task_created"]


def ended_at(engine, plan_id) -> str | None:
    view = engine.instance(plan_id)
    assert view["status"] == "completed", f"plan still running at {[t['element_id'] for t in view['tasks']]}"
    [end] = [p for t, p in audit(engine, plan_id) if t == "instance_ended"]
    return end["end_event"]


# --------------------------------------------------------------------------- user tasks and forms

def test_user_task_attributes(engine, people, at):
    E = Elements("user_task_attributes.bpmn")
    deploy(engine, "user_task_attributes.bpmn")
    with at("2026-03-02T09:00:00"):  # a Monday
        plan = engine.start("corpus_user_task_attributes", actor="zhang", data={"urgent": True})
    [draft] = plan["tasks"]
    assert (draft["element_id"], draft["assignee"], draft["status"]) == (E["起草方案"], "zhang", "claimed")
    assert draft["candidate_groups"] == ["drafter"] and draft["priority"] == 80
    assert draft["due_at"] == "2026-03-09T01:00:00+00:00"        # P7D
    assert draft["follow_up_at"] == "2026-03-05T01:00:00+00:00"  # P3D
    assert draft["documentation"] == "起草人按任务要求起草改革方案，7日内完成。"
    with at("2026-03-02T10:00:00"):
        work(engine, plan["id"], E["起草方案"], "zhang")
    review = task_at(engine, plan["id"], E["会同审核"])
    with engine.db.reader() as s:
        [row] = list_tasks(s, "li", "claimable", plan["id"])  # what the legal office's inbox shows
    # the inbox row carries the due date and the follow-up date asserted below, and its plan
    assert row == review | {"plan_title": "用户任务属性", "business_key": None, "on_behalf_of": None, "may_claim": True}
    assert review["candidate_groups"] == ["legal", "reform_office"]  # "legal, reform_office"
    assert review["candidate_users"] == ["wu", "lin"]                # "wu, lin"
    assert review["priority"] == 90                                  # ${urgent ? 90 : 50}
    assert review["due_at"] == "2026-03-23T16:00:00+00:00"           # ${workingDays(15)}: end of 23 March
    assert review["follow_up_at"] == "2026-12-01T16:00:00+00:00"     # 2026-12-01: end of that day
    with pytest.raises(Forbidden):
        engine.claim(review["id"], actor="zhou")  # risk: neither a candidate group nor a candidate user
    work(engine, plan["id"], E["会同审核"], "wu")  # the expert is a candidate user
    assert ended_at(engine, plan["id"]) == E["审核完成"]


def test_initiator_names_the_variable_that_holds_the_starter(engine, people):
    E = Elements("initiator.bpmn")
    deploy(engine, "initiator.bpmn")
    plan = engine.start("corpus_initiator", actor="wang")
    assert plan["variables"]["starter"] == "wang"
    assert (plan["tasks"][0]["element_id"], plan["tasks"][0]["assignee"]) == (E["发起人确认"], "wang")
    work(engine, plan["id"], E["发起人确认"], "wang")
    assert ended_at(engine, plan["id"]) == E["已确认"]


def test_start_form_validates_the_start_data(engine, people):
    E = Elements("start_form.bpmn")
    deploy(engine, "start_form.bpmn")
    with pytest.raises(Invalid) as err:
        engine.start("corpus_start_form", actor="zhang", data={"category": "urgent", "budget": 5})
    assert sorted((d["field"], d["code"]) for d in err.value.details) == [
        ("budget", "unknown"), ("category", "constraint"), ("leadUnit", "required")]
    major = engine.start("corpus_start_form", actor="zhang", data={"leadUnit": "市财政局", "category": "major"})
    assert major["variables"] | {"leadUnit": "市财政局", "category": "major", "pilot": False} == major["variables"]
    assert [t["element_id"] for t in major["tasks"]] == [E["领导小组审议"]]
    ordinary = engine.start("corpus_start_form", actor="zhang", data={"leadUnit": "市发改委", "pilot": "true"})
    assert (ordinary["variables"]["category"], ordinary["variables"]["pilot"]) == ("ordinary", True)  # defaults, typed
    work(engine, ordinary["id"], E["会签"], "zhang")
    assert ended_at(engine, ordinary["id"]) == E["会签完成"]


def test_form_key_task_runs_without_form_fields(engine, people):
    E = Elements("form_key.bpmn")
    deploy(engine, "form_key.bpmn")
    plan = engine.start("corpus_form_key", actor="zhang")
    task = task_at(engine, plan["id"], E["填写外部表单"])
    assert task["form"] == []
    engine.claim(task["id"], actor="li")
    with pytest.raises(Invalid):
        engine.complete(task["id"], actor="li", data={"opinion": "同意"})  # not a field of any form here
    engine.complete(task["id"], actor="li")
    assert ended_at(engine, plan["id"]) == E["结束"]


def test_form_data_every_type_constraint_and_property(engine, people):
    E = Elements("form_data.bpmn")
    deploy(engine, "form_data.bpmn")
    plan = engine.start("corpus_form_data", actor="zhang")
    task = task_at(engine, plan["id"], E["登记方案信息"])
    form = {f["id"]: f for f in task["form"]}
    assert [f["type"] for f in task["form"]] == ["string", "long", "boolean", "date", "enum", "string"]
    assert form["leadUnit"]["properties"] == {"placeholder": "如：市财政局", "width": "full"}
    assert form["leadUnit"]["constraints"] == {"required": None, "minlength": "2", "maxlength": "50"}
    assert form["plannedCompletion"]["constraints"] == {"min": "2026-01-01", "max": "2030-12-31"}
    assert [o["id"] for o in form["category"]["options"]] == ["major", "ordinary"]
    engine.claim(task["id"], actor="li")
    with pytest.raises(Invalid) as err:
        engine.complete(task["id"], actor="li", data={
            "leadUnit": "市", "legalReviewDays": 31, "pilot": "maybe", "plannedCompletion": "2031-01-01",
            "category": "urgent", "caseNumber": "DT-9999"})
    assert {(d["field"], d["code"]) for d in err.value.details} == {
        ("leadUnit", "constraint"), ("legalReviewDays", "constraint"), ("pilot", "type"),
        ("plannedCompletion", "constraint"), ("category", "constraint"), ("caseNumber", "readonly")}
    engine.complete(task["id"], actor="li", data={
        "leadUnit": "市财政局", "pilot": "true", "plannedCompletion": "2026-06-30", "category": "major"})
    variables = engine.instance(plan["id"])["variables"]
    assert {k: variables[k] for k in form} == {
        "leadUnit": "市财政局", "legalReviewDays": 15, "pilot": True, "plannedCompletion": "2026-06-30",
        "category": "major", "caseNumber": "DT-0001"}
    assert ended_at(engine, plan["id"]) == E["登记完成"]


# --------------------------------------------------------------------------- gateways

@pytest.mark.parametrize("answer, path, end", [
    ({"decision": "approve"}, ["审核", "印发"], "已印发"),
    ({"decision": "reject", "returnReason": "与上位法冲突"}, ["审核"], "否决"),
    ({"decision": "reject"}, ["审核", "修改"], "已修改"),  # no reason given: the default flow (退回修改)
    ({"decision": "return", "returnReason": "补充测算"}, ["审核", "修改"], "已修改"),
])
def test_exclusive_gateway_conditions_and_default(engine, people, answer, path, end):
    E = Elements("exclusive_gateway.bpmn")
    deploy(engine, "exclusive_gateway.bpmn")
    plan = engine.start("corpus_exclusive_gateway", actor="zhang")
    work(engine, plan["id"], E["审核"], "li", answer)
    for name in path[1:]:
        work(engine, plan["id"], E[name], "zhang" if name == "修改" else "li")
    assert created(engine, plan["id"]) == [E[n] for n in path]
    assert ended_at(engine, plan["id"]) == E[end]


def test_parallel_gateway_waits_for_both_branches(engine, people):
    E = Elements("parallel_gateway.bpmn")
    deploy(engine, "parallel_gateway.bpmn")
    plan = engine.start("corpus_parallel_gateway", actor="zhang")
    assert sorted(t["element_id"] for t in plan["tasks"]) == sorted([E["合法性意见"], E["风险意见"]])
    work(engine, plan["id"], E["风险意见"], "zhou")
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["合法性意见"]]
    work(engine, plan["id"], E["合法性意见"], "li")
    assert ended_at(engine, plan["id"]) == E["意见齐备"]


@pytest.mark.parametrize("flags, branches", [
    ({"technical": True, "touchesPublicInterest": True}, [("专家论证", "wu"), ("风险评估", "zhou")]),
    ({"technical": False, "touchesPublicInterest": True}, [("风险评估", "zhou")]),
    ({"technical": False, "touchesPublicInterest": False}, [("改革办审核", "chen")]),  # default
])
def test_inclusive_gateway_takes_every_true_branch_and_joins(engine, people, flags, branches):
    E = Elements("inclusive_gateway.bpmn")
    deploy(engine, "inclusive_gateway.bpmn")
    plan = engine.start("corpus_inclusive_gateway", actor="zhang")
    work(engine, plan["id"], E["登记方案特点"], "zhang", flags)
    assert sorted(t["element_id"] for t in open_tasks(engine, plan["id"])) == sorted(E[name] for name, _ in branches)
    for name, user in branches:
        assert engine.instance(plan["id"])["status"] == "running"
        work(engine, plan["id"], E[name], user)
    assert ended_at(engine, plan["id"]) == E["意见齐备"]


def test_event_based_gateway_message_or_signal(engine, people):
    E = Elements("event_based_gateway.bpmn")
    deploy(engine, "event_based_gateway.bpmn")
    by_message = engine.start("corpus_event_based_gateway", actor="zhang")
    by_signal = engine.start("corpus_event_based_gateway", actor="zhang")
    assert by_message["tasks"] == [] and by_message["status"] == "running"
    with pytest.raises(Conflict) as err:
        send_message(engine, by_message["id"], "无此消息", actor="zhang")
    assert "材料补正" in err.value.message  # says what the plan waits for
    view = send_message(engine, by_message["id"], "材料补正", actor="zhang", data={"supplement": "补充资金测算"})
    assert view["variables"]["supplement"] == "补充资金测算"
    assert view["variables"]["lastMessage"] == "材料补正"
    work(engine, by_message["id"], E["复核补正材料"], "li")
    assert ended_at(engine, by_message["id"]) == E["复核完成"]
    [(_, received)] = [(t, p) for t, p in audit(engine, by_message["id"]) if t == "message_received"]
    assert received["elements"] == [E["材料已补正"]]
    result = send_signal(engine, "政策调整", actor="chen")
    assert result["delivered"] == [{"instance_id": by_signal["id"], "elements": [E["政策调整"]]}]
    assert ended_at(engine, by_signal["id"]) == E["方案撤回"]
    with pytest.raises(Conflict):
        send_message(engine, by_signal["id"], "材料补正", actor="zhang")  # the plan has ended


# --------------------------------------------------------------------------- timers

def test_timer_start_event_waits_for_its_date(engine, people, at):
    E = Elements("timer_start_event.bpmn")
    deploy(engine, "timer_start_event.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_start_event", actor="zhang")
    assert plan["tasks"] == [] and plan["next_timer_at"] == "2026-04-01T16:00:00+00:00"  # end of 1 April
    with at("2026-04-01T23:59:00"):
        assert engine.fire_due_timers() == []
    with at("2026-04-02T00:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": ["StartEvent_1"]}]
    work(engine, plan["id"], E["开展评估"], "li")
    assert ended_at(engine, plan["id"]) == E["评估完成"]


def test_interrupting_boundary_timer_one_calendar_month(engine, people, at):
    E = Elements("timer_boundary_interrupting.bpmn")
    deploy(engine, "timer_boundary_interrupting.bpmn")
    with at("2026-01-31T10:00:00"):
        plan = engine.start("corpus_timer_boundary_interrupting", actor="zhang")
    assert plan["next_timer_at"] == "2026-02-28T02:00:00+00:00"  # P1M from 31 January: 28 February
    with at("2026-02-28T10:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["一个月未反馈"]]}]
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["督办"]]  # 一个月内反馈 cancelled
    assert "task_cancelled" in [t for t, _ in audit(engine, plan["id"])]
    work(engine, plan["id"], E["督办"], "chen")
    assert ended_at(engine, plan["id"]) == E["已督办"]


def test_non_interrupting_boundary_cycle_reminds_twice(engine, people, at):
    E = Elements("timer_boundary_non_interrupting.bpmn")
    deploy(engine, "timer_boundary_non_interrupting.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_boundary_non_interrupting", actor="zhang")
    assert plan["next_timer_at"] == "2026-03-03T02:00:00+00:00"
    for moment in ("2026-03-03T10:00:01", "2026-03-04T10:00:02"):  # R2/P1D: two reminders
        with at(moment):
            assert [f["instance_id"] for f in engine.fire_due_timers()] == [plan["id"]]
    with at("2026-03-09T10:00:00"):
        assert engine.fire_due_timers() == []
    tasks = sorted(t["element_id"] for t in open_tasks(engine, plan["id"]))
    assert tasks == sorted([E["审查方案"], E["提醒办理人"], E["提醒办理人"]])  # the review goes on
    # each occurrence is on record, with the time it was due, and reminds the review's holder
    fired = [(p["element_id"], p["due"], p.get("cycle")) for t, p in audit(engine, plan["id"]) if t == "timer_fired"]
    assert fired == [(E["每日提醒"], "2026-03-03T02:00:00+00:00", True), (E["每日提醒"], "2026-03-04T02:00:00+00:00", True)]
    reminded = [p["element_id"] for t, p in audit(engine, plan["id"]) if t == "task_reminded"]
    assert reminded == [E["审查方案"], E["审查方案"]]
    for _ in range(2):
        work(engine, plan["id"], E["提醒办理人"], "chen")
    work(engine, plan["id"], E["审查方案"], "li")
    assert ended_at(engine, plan["id"]) == E["审查完成"]


def test_completing_the_task_ends_the_reminders_of_a_repeating_timer(engine, people, at):
    """SpiffWorkflow cancels what a cycle started while it still had repetitions left (check warns)."""
    E = Elements("timer_boundary_non_interrupting.bpmn")
    deploy(engine, "timer_boundary_non_interrupting.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_boundary_non_interrupting", actor="zhang")
    with at("2026-03-03T10:00:01"):
        engine.fire_due_timers()
    reminder = task_at(engine, plan["id"], E["提醒办理人"])
    with at("2026-03-03T11:00:00"):  # before the next day's reminder is due
        work(engine, plan["id"], E["审查方案"], "li")
    assert ended_at(engine, plan["id"]) == E["审查完成"]
    cancelled = [p["element_id"] for t, p in audit(engine, plan["id"]) if t == "task_cancelled"]
    assert cancelled == [reminder["element_id"]]


def test_intermediate_timer_in_working_days_across_national_day(engine, people, at):
    E = Elements("timer_intermediate.bpmn")
    deploy(engine, "timer_intermediate.bpmn")
    with at("2025-09-30T15:00:00"):
        plan = engine.start("corpus_timer_intermediate", actor="zhang")  # publicityDays: a process property
    # 5 working days after 30 Sep 2025: 9, 10, 11 (a swapped working Saturday), 13, 14 October
    assert plan["next_timer_at"] == "2025-10-14T16:00:00+00:00" and plan["tasks"] == []
    with at("2025-10-15T00:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["公示5个工作日"]]}]
    work(engine, plan["id"], E["汇总公示意见"], "li")
    assert ended_at(engine, plan["id"]) == E["公示结束"]


def test_intermediate_timer_with_a_bare_duration(engine, people, at):
    """`P7D` as Modeler writes it (no expression): the headline failure of issue #3."""
    E = Elements("timer_intermediate_duration.bpmn")
    deploy(engine, "timer_intermediate_duration.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_intermediate_duration", actor="zhang")
    assert plan["tasks"] == [] and plan["next_timer_at"] == "2026-03-09T02:00:00+00:00"  # 7 calendar days
    with at("2026-03-09T09:59:59"):
        assert engine.fire_due_timers() == []
    with at("2026-03-09T10:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["等待7日"]]}]
    work(engine, plan["id"], E["汇总部门意见"], "zhang")
    assert ended_at(engine, plan["id"]) == E["意见已汇总"]


def test_timer_start_event_with_a_duration_waits_from_the_start_of_the_plan(engine, people, at):
    """Camunda would start one instance P3D after deployment; reformflow starts no plan by itself:
    the plan someone starts waits P3D before its first step (docs/modeling.md, section 2)."""
    E = Elements("timer_start_duration.bpmn")
    with at("2026-03-01T09:00:00"):
        deploy(engine, "timer_start_duration.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_start_duration", actor="zhang")
    assert plan["tasks"] == [] and plan["next_timer_at"] == "2026-03-05T02:00:00+00:00"  # from the start, not the deploy
    with at("2026-03-05T09:59:59"):
        assert engine.fire_due_timers() == []
    with at("2026-03-05T10:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": ["StartEvent_1"]}]
    work(engine, plan["id"], E["开展评估"], "li")
    assert ended_at(engine, plan["id"]) == E["评估完成"]


def test_interrupting_boundary_timer_on_a_date(engine, people, at):
    E = Elements("timer_boundary_interrupting_date.bpmn")
    deploy(engine, "timer_boundary_interrupting_date.bpmn")
    with at("2026-06-01T10:00:00"):
        plan = engine.start("corpus_timer_boundary_interrupting_date", actor="zhang")
    assert plan["next_timer_at"] == "2026-06-30T09:00:00+00:00"  # 2026-06-30T17:00:00 China time
    with at("2026-06-30T16:59:59"):
        assert engine.fire_due_timers() == []
    with at("2026-06-30T17:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["6月30日17时未上报"]]}]
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["督办"]]  # 上报半年进展 cancelled
    cancelled = [p["element_id"] for t, p in audit(engine, plan["id"]) if t == "task_cancelled"]
    assert cancelled == [E["上报半年进展"]]
    work(engine, plan["id"], E["督办"], "chen")
    assert ended_at(engine, plan["id"]) == E["已督办"]


def test_non_interrupting_boundary_timer_with_a_duration(engine, people, at):
    E = Elements("timer_boundary_non_interrupting_duration.bpmn")
    deploy(engine, "timer_boundary_non_interrupting_duration.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_boundary_non_interrupting_duration", actor="zhang")
    assert plan["next_timer_at"] == "2026-03-07T02:00:00+00:00"  # P5D: calendar days
    with at("2026-03-07T10:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["五日未办提醒"]]}]
    with at("2026-03-30T10:00:00"):
        assert engine.fire_due_timers() == []  # a duration fires once
    assert sorted(t["element_id"] for t in open_tasks(engine, plan["id"])) == sorted([E["审查方案"], E["提醒办理人"]])
    work(engine, plan["id"], E["提醒办理人"], "chen")
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["审查方案"]]  # the review goes on
    work(engine, plan["id"], E["审查方案"], "li")
    assert created(engine, plan["id"]) == [E["审查方案"], E["提醒办理人"]]
    assert ended_at(engine, plan["id"]) == E["审查完成"]


def test_non_interrupting_boundary_timer_on_a_date_outlives_the_task(engine, people, at):
    E = Elements("timer_boundary_non_interrupting_date.bpmn")
    deploy(engine, "timer_boundary_non_interrupting_date.bpmn")
    with at("2026-03-02T10:00:00"):
        plan = engine.start("corpus_timer_boundary_non_interrupting_date", actor="zhang")
    assert plan["next_timer_at"] == "2026-03-31T16:00:00+00:00"  # 2026-03-31: the end of that day
    with at("2026-04-01T00:00:01"):
        assert _fired(engine) == [{"instance_id": plan["id"], "timers": [E["3月31日提醒"]]}]
    work(engine, plan["id"], E["审查方案"], "li")
    # a single reminder already started is its own path: completing the review leaves it open
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["提醒办理人"]]
    work(engine, plan["id"], E["提醒办理人"], "chen")
    assert created(engine, plan["id"]) == [E["审查方案"], E["提醒办理人"]]
    assert ended_at(engine, plan["id"]) == E["已提醒"]  # the last path to end


# --------------------------------------------------------------------------- messages and signals

def test_message_intermediate_catch(engine, people):
    E = Elements("message_intermediate.bpmn")
    deploy(engine, "message_intermediate.bpmn")
    plan = engine.start("corpus_message_intermediate", actor="zhang")
    assert plan["tasks"] == []
    with pytest.raises(Forbidden):
        send_message(engine, plan["id"], "上级批复", actor="nobody")
    with pytest.raises(Invalid):
        send_message(engine, plan["id"], "上级批复", actor="zhang", data={"__class__": 1})
    view = send_message(engine, plan["id"], "上级批复", actor="system", data={"approvalNumber": "晋政函〔2026〕12号"})
    assert view["variables"]["approvalNumber"] == "晋政函〔2026〕12号"
    assert [t["element_id"] for t in view["tasks"]] == [E["落实批复"]]
    [received] = [p for t, p in audit(engine, plan["id"]) if t == "message_received"]
    assert received == {"name": "上级批复", "data": {"approvalNumber": "晋政函〔2026〕12号"},
                        "elements": [E["收到上级批复"]]}
    work(engine, plan["id"], E["落实批复"], "li")
    assert ended_at(engine, plan["id"]) == E["已落实"]


def test_message_boundary_interrupts_the_task(engine, people):
    E = Elements("message_boundary.bpmn")
    deploy(engine, "message_boundary.bpmn")
    plan = engine.start("corpus_message_boundary", actor="zhang")
    send_message(engine, plan["id"], "撤回方案", actor="zhang", data={"withdrawReason": "政策已调整"})
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["登记撤回"]]
    work(engine, plan["id"], E["登记撤回"], "chen")
    assert created(engine, plan["id"]) == [E["审查方案"], E["登记撤回"]]
    assert ended_at(engine, plan["id"]) == E["已撤回"]


def test_signal_reaches_every_waiting_plan(engine, people):
    E = Elements("signal_intermediate.bpmn")
    deploy(engine, "signal_intermediate.bpmn", "message_intermediate.bpmn")
    first = engine.start("corpus_signal_intermediate", actor="zhang")
    second = engine.start("corpus_signal_intermediate", actor="wang")
    other = engine.start("corpus_message_intermediate", actor="zhang")  # waits for a message, not the signal
    with pytest.raises(Forbidden):
        send_signal(engine, "年度改革计划发布", actor="zhang")  # only the reform office broadcasts
    assert send_signal(engine, "无人等待的信号", actor="chen") == {"signal": "无人等待的信号", "delivered": []}
    result = send_signal(engine, "年度改革计划发布", actor="chen", data={"planYear": 2026})
    assert [d["instance_id"] for d in result["delivered"]] == [first["id"], second["id"]]
    assert engine.instance(other["id"])["tasks"] == []
    for plan, user in ((first, "zhang"), (second, "wang")):
        assert engine.instance(plan["id"])["variables"]["planYear"] == 2026
        work(engine, plan["id"], E["按计划启动"], user)
        assert ended_at(engine, plan["id"]) == E["已启动"]
    assert send_signal(engine, "年度改革计划发布", actor="chen")["delivered"] == []


def test_non_interrupting_signal_boundary(engine, people):
    E = Elements("signal_boundary.bpmn")
    deploy(engine, "signal_boundary.bpmn")
    plan = engine.start("corpus_signal_boundary", actor="zhang")
    send_signal(engine, "政策调整", actor="system")
    assert sorted(t["element_id"] for t in open_tasks(engine, plan["id"])) == sorted([E["起草方案"], E["评估政策影响"]])
    work(engine, plan["id"], E["评估政策影响"], "zhang")
    work(engine, plan["id"], E["起草方案"], "zhang")
    assert engine.instance(plan["id"])["status"] == "completed"


# --------------------------------------------------------------------------- subprocesses, errors, escalations

@pytest.mark.parametrize("file_name, key", [("embedded_subprocess.bpmn", "corpus_embedded_subprocess"),
                                            ("collapsed_subprocess.bpmn", "corpus_collapsed_subprocess")])
@pytest.mark.parametrize("complete", [True, False])
def test_subprocess_runs_inside_the_plan(engine, people, file_name, key, complete):
    E = Elements(file_name)
    deploy(engine, file_name)
    plan = engine.start(key, actor="zhang")
    work(engine, plan["id"], E["核查材料"], "li", {"materialsComplete": complete})
    work(engine, plan["id"], E["出具意见"], "li")  # either end of the subprocess leads on
    assert created(engine, plan["id"]) == [E["核查材料"], E["出具意见"]]
    assert ended_at(engine, plan["id"]) == E["结束"]


@pytest.mark.parametrize("complete", [True, False])
def test_error_end_event_is_caught_by_the_boundary(engine, people, complete):
    E = Elements("error_boundary.bpmn")
    deploy(engine, "error_boundary.bpmn")
    plan = engine.start("corpus_error_boundary", actor="zhang")
    work(engine, plan["id"], E["核查材料"], "li", {"materialsComplete": complete})
    if complete:
        work(engine, plan["id"], E["出具意见"], "li")
        assert ended_at(engine, plan["id"]) == E["结束"]
    else:
        work(engine, plan["id"], E["退回牵头单位"], "zhang")
        assert created(engine, plan["id"]) == [E["核查材料"], E["退回牵头单位"]]
        assert ended_at(engine, plan["id"]) == E["已退回"]


def test_interrupting_escalation_boundary(engine, people):
    E = Elements("escalation_boundary_interrupting.bpmn")
    deploy(engine, "escalation_boundary_interrupting.bpmn")
    plan = engine.start("corpus_escalation_boundary_interrupting", actor="zhang")
    work(engine, plan["id"], E["核查材料"], "li", {"materialsComplete": False})
    assert [t["element_id"] for t in open_tasks(engine, plan["id"])] == [E["改革办协调"]]
    [escalation] = [p for t, p in audit(engine, plan["id"]) if t == "escalation"]
    assert escalation["code"] == "REFORM_OFFICE"
    work(engine, plan["id"], E["改革办协调"], "chen")
    assert ended_at(engine, plan["id"]) == E["协调完成"]


def test_non_interrupting_escalation_boundary(engine, people):
    E = Elements("escalation_boundary_non_interrupting.bpmn")
    deploy(engine, "escalation_boundary_non_interrupting.bpmn")
    plan = engine.start("corpus_escalation_boundary_non_interrupting", actor="zhang")
    work(engine, plan["id"], E["核查材料"], "li", {"materialsComplete": False})
    # the subprocess goes on (补充材料) while the reform office is told (改革办知悉)
    assert sorted(t["element_id"] for t in open_tasks(engine, plan["id"])) == sorted([E["补充材料"], E["改革办知悉"]])
    work(engine, plan["id"], E["改革办知悉"], "chen")
    work(engine, plan["id"], E["补充材料"], "zhang")
    work(engine, plan["id"], E["出具意见"], "li")
    assert ended_at(engine, plan["id"]) == E["结束"]


def test_call_activity_binds_the_latest_version_at_start(engine, people):
    E = Elements("call_activity.bpmn")
    called = Elements("call_activity_called.bpmn")
    deploy(engine, "call_activity.bpmn", "call_activity_called.bpmn")
    v1_plan = engine.start("corpus_call_activity", actor="zhang")
    assert v1_plan["called_versions"] == {"corpus_called_process": 1}
    renamed = (CORPUS / "call_activity_called.bpmn").read_bytes().replace("评估风险".encode(), "复核风险".encode())
    [v2] = engine.deploy([("call_activity_called.bpmn", renamed)])
    assert (v2["key"], v2["version"]) == ("corpus_called_process", 2)
    v2_plan = engine.start("corpus_call_activity", actor="wang")
    assert v2_plan["called_versions"] == {"corpus_called_process": 2}
    assert [t["name"] for t in v1_plan["tasks"]] == ["评估风险"]
    assert [t["name"] for t in v2_plan["tasks"]] == ["复核风险"]
    for plan, user, level in ((v1_plan, "zhang", "high"), (v2_plan, "wang", "low")):
        work(engine, plan["id"], called["评估风险"], "zhou", {"riskLevel": level})
        view = engine.instance(plan["id"])
        assert view["variables"]["riskLevel"] == level  # camunda:out variables="all"
        assert view["called_versions"] == plan["called_versions"]
        work(engine, plan["id"], E["根据评估结论修改"], user)  # assignee ${initiator}: in and back out
        assert ended_at(engine, plan["id"]) == E["结束"]


def test_call_activity_to_a_process_not_deployed_is_refused(engine, people):
    E = Elements("call_activity.bpmn")
    with pytest.raises(Invalid) as err:
        deploy(engine, "call_activity.bpmn")
    assert "corpus_called_process" in err.value.message
    report = check_files([read(CORPUS / "call_activity.bpmn")], deployed_keys=set(), use_modeler=False)
    assert [(p["rule"], p["element_id"]) for p in report.errors] == [("call-activity", E["社会稳定风险评估"])]


# --------------------------------------------------------------------------- multi-instance

DEPARTMENTS = [("legal", "li"), ("risk", "zhou"), ("expert", "wu")]


def test_parallel_multi_instance_one_task_per_department(engine, people):
    E = Elements("multi_instance_parallel.bpmn")
    deploy(engine, "multi_instance_parallel.bpmn")
    plan = engine.start("corpus_multi_instance_parallel", actor="zhang",
                        data={"departments": [code for code, _ in DEPARTMENTS]})
    assert sorted(t["candidate_groups"][0] for t in plan["tasks"]) == sorted(code for code, _ in DEPARTMENTS)
    for task in plan["tasks"]:
        user = dict(DEPARTMENTS)[task["candidate_groups"][0]]
        engine.claim(task["id"], actor=user)
        engine.complete(task["id"], actor=user, data={"opinion": f"{user} 同意"})
    opinions = sorted(p["new"]["opinion"] for t, p in audit(engine, plan["id"]) if t == "task_completed")
    assert opinions == ["li 同意", "wu 同意", "zhou 同意"]  # each department's opinion is on record
    work(engine, plan["id"], E["汇总意见"], "chen")
    assert ended_at(engine, plan["id"]) == E["意见汇总完成"]


def test_sequential_multi_instance_one_department_after_another(engine, people):
    E = Elements("multi_instance_sequential.bpmn")
    deploy(engine, "multi_instance_sequential.bpmn")
    plan = engine.start("corpus_multi_instance_sequential", actor="zhang",
                        data={"departments": [code for code, _ in DEPARTMENTS]})
    for code, user in DEPARTMENTS:
        [task] = open_tasks(engine, plan["id"])
        assert task["candidate_groups"] == [code]
        work(engine, plan["id"], E["各部门出具意见"], user, {"opinion": "同意"})
    work(engine, plan["id"], E["汇总意见"], "chen")
    assert ended_at(engine, plan["id"]) == E["意见汇总完成"]


def test_the_next_item_of_a_sequential_multi_instance_is_not_returned_to_the_last_one(engine, people):
    """One person in every department group completes an item: the next item is a new step for
    its own department, open to it, not a submission sent back to that person."""
    E = Elements("multi_instance_sequential.bpmn")
    deploy(engine, "multi_instance_sequential.bpmn")
    engine.add_user("he", "何敏", groups=[code for code, _ in DEPARTMENTS])
    plan = engine.start("corpus_multi_instance_sequential", actor="zhang",
                        data={"departments": [code for code, _ in DEPARTMENTS]})
    for _ in DEPARTMENTS[:-1]:
        done = work(engine, plan["id"], E["各部门出具意见"], "he", {"opinion": "同意"})
        assert "reopened" not in done
        [task] = open_tasks(engine, plan["id"])
        assert (task["status"], task["assignee"]) == ("open", None)


# --------------------------------------------------------------------------- artifacts

def test_annotations_groups_and_data_objects_are_kept_and_ignored(engine, people):
    E = Elements("artifacts.bpmn")
    [definition] = deploy(engine, "artifacts.bpmn")
    plan = engine.start("corpus_artifacts", actor="zhang")
    work(engine, plan["id"], E["审查方案"], "li")
    assert ended_at(engine, plan["id"]) == E["结束"]
    with engine.db.reader() as s:
        xml = s.get(ProcessDefinition, definition["id"]).bpmn_xml
    for kept in ("bpmn:textAnnotation", "bpmn:group", "bpmn:dataObjectReference", "bpmn:association"):
        assert kept in xml


# --------------------------------------------------------------------------- the analyst's round trip

def test_changed_condition_and_form_field_become_version_2_while_version_1_runs_on(engine, people):
    """An analyst edits a copy: a stricter condition and a new form field; check; deploy as v2."""
    E = Elements("exclusive_gateway.bpmn")
    deploy(engine, "exclusive_gateway.bpmn")
    v1_plan = engine.start("corpus_exclusive_gateway", actor="zhang")
    original = (CORPUS / "exclusive_gateway.bpmn").read_bytes()
    edited = original.replace(b"${decision == 'approve'}", b"${decision == 'approve' &amp;&amp; fundsConfirmed}")
    assert b"fundsConfirmed" not in original
    edited = edited.replace(
        '<camunda:formField id="returnReason" label="退回理由" type="string" />'.encode(),
        ('<camunda:formField id="returnReason" label="退回理由" type="string" />\n'
         '            <camunda:formField id="fundsConfirmed" label="资金已落实" type="boolean" defaultValue="false" />').encode())
    assert edited.count(b"fundsConfirmed") == 2
    report = check_files([("exclusive_gateway.bpmn", edited)], deployed_keys={"corpus_exclusive_gateway"})
    assert report.errors == [] and report.warnings == []
    [v2] = engine.deploy([("exclusive_gateway.bpmn", edited)])
    assert (v2["version"], v2["status"]) == (2, "created")
    v2_plan = engine.start("corpus_exclusive_gateway", actor="zhang")
    # version 2: approving without confirmed funds no longer issues the plan
    work(engine, v2_plan["id"], E["审核"], "li", {"decision": "approve"})
    assert [t["element_id"] for t in open_tasks(engine, v2_plan["id"])] == [E["修改"]]
    # version 1 keeps its form and its condition to the end
    v1_task = task_at(engine, v1_plan["id"], E["审核"])
    assert [f["id"] for f in v1_task["form"]] == ["decision", "returnReason"]
    work(engine, v1_plan["id"], E["审核"], "li", {"decision": "approve"})
    work(engine, v1_plan["id"], E["印发"], "li")
    assert ended_at(engine, v1_plan["id"]) == E["已印发"]
    assert engine.instance(v1_plan["id"])["definition_version"] == 1


LEGALITY = BPMN / "legality_review.bpmn"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
OPINION_LABEL_V2 = "合法性审查意见（不少于10字）"


def analyst_copy_of_legality_review() -> bytes:
    """What an analyst saves after two edits in the Modeler to a copy of bpmn/legality_review.bpmn."""
    tree = etree.parse(str(LEGALITY))
    # the form: the opinion must now say at least 10 characters (label and a new constraint)
    [opinion] = tree.xpath("//bpmn:userTask[@id='Task_LegalityReview']//camunda:formField[@id='legalityOpinion']",
                           namespaces=NSMAP)
    assert opinion.get("label") == "合法性审查意见"
    opinion.set("label", OPINION_LABEL_V2)
    etree.SubElement(opinion.find("camunda:validation", NSMAP), f"{{{CAMUNDA_NS}}}constraint",
                     name="minlength", config="10")
    # the routing: a plan that still needs laws changed or an authorisation does not pass as it is
    [condition] = tree.xpath("//bpmn:sequenceFlow[@id='Flow_LegalityPass']/bpmn:conditionExpression",
                             namespaces=NSMAP)
    assert condition.text == "${legalityResult == 'pass'}"
    condition.text = "${legalityResult == 'pass' && empty lawChangesNeeded}"
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def library_with(file_name: str, data: bytes) -> list[tuple[str, bytes]]:
    """`reformflow check bpmn/*.bpmn` with one file replaced: the callers' variables are known."""
    return [(p.name, data if p.name == file_name else p.read_bytes()) for p in sorted(BPMN.glob("*.bpmn"))]


def inbox_row(engine, user, plan_id) -> dict:
    with engine.db.reader() as s:
        [row] = list_tasks(s, user, "all", plan_id)
    return row


# what the legal office answers on both plans: a pass, with an authorisation still to obtain
LEGAL_ANSWER = {"legalityResult": "pass", "lawChangesNeeded": "需取得省人大常委会授权"}
SHORT_OPINION = "符合法律法规"                       # 6 characters: enough on version 1
LONG_OPINION = "方案符合上位法规定，权限与程序合法。"  # 18 characters


def test_analyst_round_trip_on_a_library_diagram(engine, people):
    """Issue #3: change a condition and a form field in a copy of a library diagram, check, deploy
    as version 2, start a plan on it while a version-1 plan keeps running to its end on version 1."""
    deploy_library(engine)
    start = {"exploratory": False}  # set by reform_plan's form when legality_review is called from there
    plan_a = engine.start("legality_review", actor="chen", data=start)  # on its own: the office
    work(engine, plan_a["id"], "Task_CheckMaterials", "li", {"materialsComplete": True})
    assert [t["element_id"] for t in open_tasks(engine, plan_a["id"])] == ["Task_LegalityReview"]

    edited = analyst_copy_of_legality_review()
    report = check_files(library_with("legality_review.bpmn", edited), deployed_keys=set())
    assert report.errors == [] and report.warnings == [], report.problems
    [v2] = engine.deploy([("legality_review.bpmn", edited)])
    assert (v2["key"], v2["version"], v2["status"]) == ("legality_review", 2, "created")

    plan_b = engine.start("legality_review", actor="chen", data=start)
    assert engine.instance(plan_b["id"])["definition_version"] == 2
    work(engine, plan_b["id"], "Task_CheckMaterials", "li", {"materialsComplete": True})
    # the inbox rows: version 2's form on plan B, version 1's form kept on plan A
    form_b = {f["id"]: f for f in inbox_row(engine, "li", plan_b["id"])["form"]}
    form_a = {f["id"]: f for f in inbox_row(engine, "li", plan_a["id"])["form"]}
    assert form_b["legalityOpinion"]["label"] == OPINION_LABEL_V2
    assert form_b["legalityOpinion"]["constraints"] == {"required": None, "minlength": "10"}
    assert form_a["legalityOpinion"]["label"] == "合法性审查意见"
    assert form_a["legalityOpinion"]["constraints"] == {"required": None}

    # plan A ends on version 1: the short opinion is accepted and the old condition lets it pass
    work(engine, plan_a["id"], "Task_LegalityReview", "li", {**LEGAL_ANSWER, "legalityOpinion": SHORT_OPINION})
    assert ended_at(engine, plan_a["id"]) == "Event_LegalityPassed"
    assert engine.instance(plan_a["id"])["definition_version"] == 1

    # plan B ends on version 2: the new constraint, then the new condition
    with pytest.raises(Invalid) as err:
        work(engine, plan_b["id"], "Task_LegalityReview", "li", {**LEGAL_ANSWER, "legalityOpinion": SHORT_OPINION})
    assert [(d["field"], d["code"]) for d in err.value.details] == [("legalityOpinion", "constraint")]
    work(engine, plan_b["id"], "Task_LegalityReview", "li", {**LEGAL_ANSWER, "legalityOpinion": LONG_OPINION})
    assert ended_at(engine, plan_b["id"]) == "Event_LegalityFailed"  # the default flow: 不通过
    assert engine.instance(plan_b["id"])["definition_version"] == 2


@requires_modeler
def test_analyst_copy_passes_the_modeler_lint():
    report = check_files(library_with("legality_review.bpmn", analyst_copy_of_legality_review()), deployed_keys=set())
    assert report.modeler_lint == "ran"
    assert [p for p in report.problems if p["severity"] in ("error", "warning")] == []


# --------------------------------------------------------------------------- check on the corpus

@pytest.fixture(scope="module")
def corpus_report():
    """`reformflow check` on every runnable corpus file at once (one Modeler lint run)."""
    return check_files([read(CORPUS / name) for name in RUNNABLE], deployed_keys=set())


@pytest.mark.parametrize("file_name", RUNNABLE)
def test_runnable_corpus_passes_check(corpus_report, file_name):
    mine = [p for p in corpus_report.problems if p["file"] == file_name]
    assert [p for p in mine if p["severity"] == "error"] == []
    assert [(p["rule"], p["element_id"]) for p in mine if (p["file"], p["rule"]) not in KNOWN_WARNINGS] == []


# Warnings the corpus is meant to show: bpmnlint:recommended discourages inclusive gateways
# (reformflow runs them); a repeating timer's open reminders end with the task they are attached to.
KNOWN_WARNINGS = {("inclusive_gateway.bpmn", "modeler/no-inclusive-gateway"),
                  ("timer_boundary_non_interrupting.bpmn", "timer")}


@requires_modeler
def test_corpus_passes_the_modeler_lint(corpus_report):
    assert corpus_report.modeler_lint == "ran"
    assert {(p["file"], p["rule"]) for p in corpus_report.problems} <= KNOWN_WARNINGS


REFUSALS = {
    "refused_call_activity_binding.bpmn": ("call-activity", "社会稳定风险评估"),
    "refused_call_activity_mapping.bpmn": ("call-activity", "风险评估"),
    "refused_collection_expression.bpmn": ("multi-instance", "各部门出具意见"),
    "refused_data_output_association.bpmn": ("unsupported", "起草方案"),
    "refused_event_gateway_timer.bpmn": ("event", "10日未补正"),
    "refused_event_subprocess.bpmn": ("unsupported", "超时提醒"),
    "refused_link_event.bpmn": ("unsupported", "转到审查"),
    "refused_message_start.bpmn": ("event", "收到申请"),
    "refused_message_throw.bpmn": ("event", "通知牵头单位"),
    "refused_plain_task.bpmn": ("task-type", "整理材料"),
    "refused_receive_task.bpmn": ("unsupported", "接收批复"),
    "refused_service_task.bpmn": ("unsupported", "推送到省平台"),
    "refused_signal_start.bpmn": ("event", "年度计划发布"),
    "refused_signal_throw.bpmn": ("event", "通知各方案"),
    "refused_timer_cycle_intermediate.bpmn": ("timer", "每周一次"),
    "refused_timer_cycle_start.bpmn": ("timer", "每周一次"),
    "refused_timer_cycle_boundary_interrupting.bpmn": ("timer", "每日催办"),
}


def test_call_activity_binding_latest_is_the_one_accepted():
    """Modeler's Binding field: `latest` (also the default when absent) runs; `deployment` is refused."""
    refused = (CORPUS / "refused_call_activity_binding.bpmn").read_bytes()
    latest = refused.replace(b'camunda:calledElementBinding="deployment"', b'camunda:calledElementBinding="latest"')
    assert latest != refused
    report = check_files([("call_latest.bpmn", latest)], deployed_keys={"corpus_called_process"}, use_modeler=False)
    assert report.errors == []


def test_every_refused_file_is_listed():
    assert sorted(REFUSALS) == REFUSED


@pytest.mark.parametrize("file_name", REFUSED)
def test_refused_construct_is_named_by_check(file_name):
    rule, name = REFUSALS[file_name]
    element_id = Elements(file_name)[name]
    report = check_files([read(CORPUS / file_name)], deployed_keys={"corpus_called_process"}, use_modeler=False)
    assert (rule, element_id) in {(p["rule"], p["element_id"]) for p in report.errors}


@pytest.mark.parametrize("file_name", REFUSED)
def test_refused_construct_is_refused_by_deploy(sqlite_engine, file_name):
    _, name = REFUSALS[file_name]
    with pytest.raises(Invalid) as err:
        sqlite_engine.deploy([read(CORPUS / file_name), read(CORPUS / "call_activity_called.bpmn")])
    assert Elements(file_name)[name] in err.value.message


# --------------------------------------------------------------------------- Modeler round trip

@requires_modeler
@pytest.mark.parametrize("file_name", RUNNABLE + REFUSED)
def test_corpus_survives_opening_and_saving_in_the_modeler(file_name):
    """bpmn-moddle + camunda-bpmn-moddle read every element and attribute we wrote."""
    path = CORPUS / file_name
    xml, warnings = modeler.roundtrip_with_warnings(str(path))
    assert warnings == []
    assert modeler.semantic_diff(path.read_bytes(), xml.encode()) == []
