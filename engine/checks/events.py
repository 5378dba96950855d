"""Events: message, signal, error and escalation triggers, and event-based gateways."""
from __future__ import annotations

from .common import NS, Doc, is_bpmn, local_name

ACTIVITIES_THAT_THROW = {"subProcess", "callActivity", "transaction"}


def _named_ref(doc: Doc, definition, attr: str, kind: str):
    """The bpmn:message / bpmn:signal a definition refers to, with a problem if it has no name."""
    ref = definition.get(attr)
    target = doc.by_id.get(ref) if ref else None
    if target is None or not is_bpmn(target, kind):
        return None, f"no {kind} chosen: select or create a {kind} (Global {kind} reference) with a name"
    name = (target.get("name") or "").strip()
    if not name:
        return None, f"the {kind} '{ref}' has no name: reformflow matches {kind}s by name"
    if "${" in name or "#{" in name:
        return None, f"the {kind} name '{name}' is an expression; {kind} names must be plain text"
    return target, None


def rule_events(doc: Doc):
    for event in doc.iter("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        local = local_name(event)
        definitions = doc.definitions(event)
        if len(definitions) > 1:
            yield doc.problem(event, "event", "an event with more than one trigger (multiple / parallel multiple) "
                              "is not supported; use an event-based gateway")
            continue
        kind = local_name(definitions[0]) if definitions else None
        if kind == "messageEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "sending a message needs an implementation (Java in Camunda); "
                                  "reformflow plans cannot send messages. Messages come from outside "
                                  "(engine.events.send_message)")
                continue
            _, error = _named_ref(doc, definitions[0], "messageRef", "message")
            if error:
                yield doc.problem(event, "event", error)
        elif kind == "signalEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "a signal thrown by a plan would reach only that plan (Camunda "
                                  "broadcasts it to every plan); signals come from outside (engine.events.send_signal)")
                continue
            _, error = _named_ref(doc, definitions[0], "signalRef", "signal")
            if error:
                yield doc.problem(event, "event", error)
        if local == "startEvent" and kind in ("messageEventDefinition", "signalEventDefinition") and doc.top_level(event):
            what = "message" if kind.startswith("message") else "signal"
            yield doc.problem(event, "event", f"a {what} start event: Camunda starts a new plan per {what}, reformflow "
                              "starts plans with `reformflow start` and the plan would then wait here. Use a none "
                              f"start event, followed by a {what} intermediate catch event if the plan must wait")
        if local == "startEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            yield doc.problem(event, "event", "error and escalation start events belong to event subprocesses, "
                              "which are not supported; use a boundary event")
        if local == "boundaryEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            host = doc.by_id.get(event.get("attachedToRef"))
            if host is not None and local_name(host) not in ACTIVITIES_THAT_THROW:
                what = "error" if kind.startswith("error") else "escalation"
                yield doc.problem(event, "event", f"this {what} boundary event can never fire: only a subprocess or "
                                  f"call activity can throw a BPMN {what} in reformflow (no Java code runs). Attach it "
                                  "to the subprocess that ends with the matching end event", "warning")
        if local == "boundaryEvent" and kind is None:
            yield doc.problem(event, "event", "a boundary event needs a trigger (timer, message, signal, error or escalation)")


def rule_event_gateways(doc: Doc):
    for gateway in doc.iter("eventBasedGateway"):
        flows = doc.outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            yield doc.problem(gateway, "event", "an event-based gateway needs at least two outgoing flows, each to an "
                              "intermediate catch event")
        for flow in flows:
            target = doc.by_id.get(flow.get("targetRef"))
            if target is None:
                continue
            definitions = doc.definitions(target)
            kinds = {local_name(d) for d in definitions}
            if not is_bpmn(target, "intermediateCatchEvent") or not kinds & {
                    "messageEventDefinition", "signalEventDefinition", "timerEventDefinition"}:
                yield doc.problem(target, "event", "after an event-based gateway only message, signal or timer "
                                  "intermediate catch events may follow (receive tasks are not supported)")
            elif "timerEventDefinition" in kinds:
                yield doc.problem(target, "event", "a timer after an event-based gateway never fires in reformflow "
                                  "(SpiffWorkflow hides its due time from the timer worker). Put the timer on a "
                                  "boundary event instead, or wait for the message with a boundary timer on a user task")
            if flow.find("bpmn:conditionExpression", NS) is not None:
                yield doc.problem(flow, "gateway", "a flow leaving an event-based gateway cannot have a condition")
