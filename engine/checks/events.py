"""Events: message, signal, error and escalation triggers, and event-based gateways."""
from __future__ import annotations

from .common import NS, Doc, is_bpmn, local_name

ACTIVITIES_THAT_THROW = {"subProcess", "callActivity", "transaction"}
_ZH = {"message": "消息", "signal": "信号", "error": "错误", "escalation": "升级"}


def _named_ref(doc: Doc, definition, attr: str, kind: str):
    """The bpmn:message / bpmn:signal a definition refers to, with a problem if it has no name."""
    ref = definition.get(attr)
    target = doc.by_id.get(ref) if ref else None
    zh = _ZH[kind]
    if target is None or not is_bpmn(target, kind):
        return None, (f"未选择{zh}：请选择或新建一个有名称的{zh}（Global {kind} reference） (no {kind} chosen: "
                      f"select or create a {kind} (Global {kind} reference) with a name)")
    name = (target.get("name") or "").strip()
    if not name:
        return None, (f"{zh} '{ref}' 没有名称：reformflow 按名称匹配{zh} (the {kind} '{ref}' has no name: "
                      f"reformflow matches {kind}s by name)")
    if "${" in name or "#{" in name:
        return None, (f"{zh}名称 '{name}' 是表达式，{zh}名称须为普通文本 (the {kind} name '{name}' is an "
                      f"expression; {kind} names must be plain text)")
    return target, None


def rule_events(doc: Doc):
    for event in doc.iter("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        local = local_name(event)
        definitions = doc.definitions(event)
        if len(definitions) > 1:
            yield doc.problem(event, "event", "不支持带多个触发器的事件（multiple / parallel multiple），请改用基于事件的"
                              "网关 (an event with more than one trigger (multiple / parallel multiple) "
                              "is not supported; use an event-based gateway)")
            continue
        kind = local_name(definitions[0]) if definitions else None
        if kind == "messageEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "发送消息需要实现代码（Camunda 中为 Java），reformflow 的方案不能发送"
                                  "消息；消息从外部传入（engine.events.send_message） (sending a message needs an "
                                  "implementation (Java in Camunda); reformflow plans cannot send messages. Messages "
                                  "come from outside (engine.events.send_message))")
                continue
            _, error = _named_ref(doc, definitions[0], "messageRef", "message")
            if error:
                yield doc.problem(event, "event", error)
        elif kind == "signalEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "方案抛出的信号只会到达该方案本身（Camunda 会广播给所有方案）；信号从"
                                  "外部发送（engine.events.send_signal） (a signal thrown by a plan would reach only "
                                  "that plan (Camunda broadcasts it to every plan); signals come from outside "
                                  "(engine.events.send_signal))")
                continue
            _, error = _named_ref(doc, definitions[0], "signalRef", "signal")
            if error:
                yield doc.problem(event, "event", error)
        if local == "startEvent" and kind in ("messageEventDefinition", "signalEventDefinition") and doc.top_level(event):
            what = "message" if kind.startswith("message") else "signal"
            zh = _ZH[what]
            yield doc.problem(event, "event", f"{zh}开始事件：Camunda 每收到一个{zh}就启动一个新方案，而 reformflow 用 "
                              "`reformflow start` 启动方案，方案会停在这里等待。请改用空白开始事件，如方案须等待，"
                              f"其后再接一个{zh}中间捕获事件 (a {what} start event: Camunda starts a new plan per "
                              f"{what}, reformflow starts plans with `reformflow start` and the plan would then wait "
                              f"here. Use a none start event, followed by a {what} intermediate catch event if the "
                              "plan must wait)")
        if local == "startEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            yield doc.problem(event, "event", "错误和升级开始事件属于事件子流程，而事件子流程不受支持；请改用边界事件 "
                              "(error and escalation start events belong to event subprocesses, "
                              "which are not supported; use a boundary event)")
        if local == "boundaryEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            host = doc.by_id.get(event.get("attachedToRef"))
            if host is not None and local_name(host) not in ACTIVITIES_THAT_THROW:
                what = "error" if kind.startswith("error") else "escalation"
                zh = _ZH[what]
                yield doc.problem(event, "event", f"此{zh}边界事件永远不会触发：在 reformflow 中只有子流程或调用活动能"
                                  f"抛出 BPMN {zh}（不运行 Java 代码）。请把它附在以相应结束事件结束的子流程上 "
                                  f"(this {what} boundary event can never fire: only a subprocess or call activity "
                                  f"can throw a BPMN {what} in reformflow (no Java code runs). Attach it to the "
                                  "subprocess that ends with the matching end event)", "warning")
        if local == "boundaryEvent" and kind is None:
            yield doc.problem(event, "event", "边界事件须有触发器（定时器、消息、信号、错误或升级） (a boundary event "
                              "needs a trigger (timer, message, signal, error or escalation))")


def rule_event_gateways(doc: Doc):
    for gateway in doc.iter("eventBasedGateway"):
        flows = doc.outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            yield doc.problem(gateway, "event", "基于事件的网关至少要有两条出口流，每条都连到一个中间捕获事件 (an "
                              "event-based gateway needs at least two outgoing flows, each to an intermediate catch "
                              "event)")
        for flow in flows:
            target = doc.by_id.get(flow.get("targetRef"))
            if target is None:
                continue
            definitions = doc.definitions(target)
            kinds = {local_name(d) for d in definitions}
            if not is_bpmn(target, "intermediateCatchEvent") or not kinds & {
                    "messageEventDefinition", "signalEventDefinition", "timerEventDefinition"}:
                yield doc.problem(target, "event", "基于事件的网关之后只能接消息、信号或定时器中间捕获事件（不支持接收"
                                  "任务） (after an event-based gateway only message, signal or timer "
                                  "intermediate catch events may follow (receive tasks are not supported))")
            elif "timerEventDefinition" in kinds:
                yield doc.problem(target, "event", "基于事件的网关之后的定时器在 reformflow 中永远不会触发（SpiffWorkflow "
                                  "不让定时器进程看到它的到期时间）。请改把定时器放在边界事件上，或用带边界定时器的"
                                  "用户任务等待消息 (a timer after an event-based gateway never fires in reformflow "
                                  "(SpiffWorkflow hides its due time from the timer worker). Put the timer on a "
                                  "boundary event instead, or wait for the message with a boundary timer on a user "
                                  "task)")
            if flow.find("bpmn:conditionExpression", NS) is not None:
                yield doc.problem(flow, "gateway", "基于事件的网关的出口流不能带条件 (a flow leaving an event-based "
                                  "gateway cannot have a condition)")
