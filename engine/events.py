"""Messages and signals from outside: how a waiting plan hears that something happened.

A diagram waits for a message ("材料补正" — the missing documents arrived) or a signal ("政策调整"
— the policy changed) with an intermediate catch event, a boundary event or an event-based
gateway. Nothing inside reformflow sends them: a person, the web layer or an integration does,
through these two functions.

* `send_message(engine, instance_id, name, actor=..., data=...)` — to ONE plan, which must be
  waiting for a message of that name (the `name` of the bpmn:message the event refers to).
* `send_signal(engine, name, actor=..., data=...)` — to EVERY running plan waiting for a
  signal of that name (Camunda's broadcast); plans not waiting are left alone.

Each call is one transaction (`engine.command`): the plans are locked, loaded, the event is
handed to SpiffWorkflow's catch API (`workflow.catch(BpmnEvent(...))`), the engine runs on, the
inbox is synced, and `message_received` / `signal_received` is appended to the audit trail —
all of it or nothing. `data` (a JSON object) becomes process variables on the path the event
opens; a caught message also sets `lastMessage` to the message's name.
"""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select

from models import ProcessDefinition, ProcessInstance

from . import forms, runtime
from .commands import _PLAN_STATUS_ZH, SYSTEM_ACTOR, Engine
from .errors import Conflict, Invalid

MESSAGE_VARIABLE = "lastMessage"


def _clean_name(name: str, what: str, gloss: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"{what}名称不能为空 (a {gloss} name is required)")
    return name.strip()


def _clean_data(data) -> dict:
    """The event's variables: a JSON object of plain variable names, at most 64 KB."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Invalid("事件数据须为 JSON 对象 (event data must be a JSON object)")
    bad = [k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")]
    if bad:
        raise Invalid(f"变量名无效：{', '.join(map(str, bad))} (variable names must be plain identifiers)")
    forms.check_submitted(data, ("事件数据", "event data"))
    return dict(data)


def _waiting_tasks(workflow, event) -> list:
    """The tasks of this plan (subprocesses included) that would catch the event now."""
    return [t for t in workflow.event_manager.tasks.values() if t.task_spec.catches(t, event)]


def _waiting_names(workflow) -> list[str]:
    names = []
    for pending in workflow.waiting_events():
        if pending.event_type in ("MessageEventDefinition", "SignalEventDefinition") and pending.name:
            names.append(pending.name)
    for task in workflow.event_manager.tasks.values():  # event-based gateways wait for several
        for definition in getattr(task.task_spec.event_definition, "event_definitions", []):
            if isinstance(definition, (MessageEventDefinition, SignalEventDefinition)):
                names.append(definition.name)
    return sorted(set(names))


def _deliver(ctx, instance: ProcessInstance, workflow, event, waiting: list, data: dict) -> None:
    """Hand the event to SpiffWorkflow, let the plan run on, sync the inbox and save."""
    def catch(wf):
        wf.catch(event)
        for task in waiting:  # now READY with the data it inherited: the event's data goes on from here
            task.data.update(data)
    runtime.run(ctx, instance, workflow, catch)


def _element_ids(tasks, event) -> list[str]:
    """The catching events' ids; for an event-based gateway, the event after it that matched."""
    ids = set()
    for task in tasks:
        spec = task.task_spec
        inner = getattr(spec.event_definition, "event_definitions", None)
        if inner is None:
            ids.add(spec.bpmn_id)
            continue
        for definition, output in zip(inner, spec.outputs):
            if definition.catches(task, event):
                ids.add(output.bpmn_id)
    return sorted(ids)


def _check_actor(engine: Engine, ctx, actor: str, *, admin: bool = False) -> None:
    if actor == SYSTEM_ACTOR:
        return
    if admin:
        engine._office_member(ctx, actor, "只有改革办可以发送信号 (only the reform office may broadcast a signal)")
    else:
        engine._member(ctx, actor)


def send_message(engine: Engine, instance_id: int, name: str, *, actor: str, data: dict | None = None) -> dict:
    """Deliver the message `name` to one plan; Conflict if it is not waiting for it."""
    name = _clean_name(name, "消息", "message")
    data = _clean_data(data)
    with engine.command(actor) as ctx:
        _check_actor(engine, ctx, actor)
        instance = engine._lock_instance(ctx, instance_id)
        if instance.status != "running":
            raise Conflict(f"方案 {instance_id} 已{_PLAN_STATUS_ZH.get(instance.status, instance.status)}，"
                           f"不能接收消息 (plan is {instance.status})")
        workflow = runtime.load(ctx, instance)
        event = BpmnEvent(MessageEventDefinition(name), payload={"payload": name, "result_var": MESSAGE_VARIABLE})
        waiting = _waiting_tasks(workflow, event)
        if not waiting:
            names = _waiting_names(workflow)
            if not names:  # say what to do, not just "waiting for: none"
                raise Conflict(f"方案 {instance_id} 此时不等待任何消息；请核对方案编号，或在方案办到等待「{name}」"
                               f"的环节后再发送 (plan {instance_id} waits for no message now: check the plan, or send "
                               f"'{name}' once it reaches the step that waits for it)")
            raise Conflict(f"方案 {instance_id} 当前没有等待消息「{name}」（正在等待：{'、'.join(names)}）"
                           f" (plan is not waiting for message '{name}')")
        ctx.log.record("message_received", instance_id=instance.id, name=name, data=data,
                       elements=_element_ids(waiting, event))
        _deliver(ctx, instance, workflow, event, waiting, data)
    return engine.instance(instance_id)


def _catches_signal(ctx, definition_id: int, name: str) -> bool:
    """Whether a definition (its embedded subprocesses included) has a catch event for the
    signal; read from the engine's cache of restored specs, so no XML is parsed."""
    spec, subprocess_specs = runtime.specs_for(ctx, definition_id, {})
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if not isinstance(task_spec, CatchingEvent):
                continue
            definition = task_spec.event_definition
            for inner in getattr(definition, "event_definitions", None) or [definition]:
                if isinstance(inner, SignalEventDefinition) and inner.name == name:
                    return True
    return False


def send_signal(engine: Engine, name: str, *, actor: str, data: dict | None = None) -> dict:
    """Deliver the signal `name` to every running plan waiting for it, in one transaction."""
    name = _clean_name(name, "信号", "signal")
    data = _clean_data(data)
    delivered = []
    with engine.command(actor) as ctx:
        _check_actor(engine, ctx, actor, admin=True)
        s = ctx.session
        listening = {d for d in s.execute(select(ProcessDefinition.id)).scalars()
                     if _catches_signal(ctx, d, name)}
        candidates = []
        if listening:
            rows = s.execute(select(ProcessInstance.id, ProcessInstance.definition_id,
                                    ProcessInstance.subprocess_definitions)
                             .where(ProcessInstance.status == "running")
                             .order_by(ProcessInstance.id)).all()
            candidates = [r.id for r in rows if r.definition_id in listening
                          or listening & set(json.loads(r.subprocess_definitions or "{}").values())]
        for instance_id in candidates:  # in id order: two broadcasts lock plans in the same order
            instance = engine._lock_instance(ctx, instance_id)
            if instance.status != "running":
                continue
            workflow = runtime.load(ctx, instance)
            event = BpmnEvent(SignalEventDefinition(name), payload={})
            waiting = _waiting_tasks(workflow, event)
            if not waiting:
                continue
            elements = _element_ids(waiting, event)
            ctx.log.record("signal_received", instance_id=instance.id, name=name, data=data, elements=elements)
            _deliver(ctx, instance, workflow, event, waiting, data)
            delivered.append({"instance_id": instance.id, "elements": elements})
    return {"signal": name, "delivered": delivered}
