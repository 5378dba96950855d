"""Gateways and flows: default flows and conditions, gateway coverage (every case leaves the
gateway), conditional flows, implicit splits, unreachable elements."""
from __future__ import annotations

import itertools
from typing import Iterator

from ..expressions import EvaluationError, ExpressionError, compile_expression
from ..flow_reach import reached
from ..scripting import FUNCTION_NAMES
from .common import CAMUNDA_BUILTINS, NS, Doc, is_bpmn, local_name

FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
              "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}
MAX_COMBINATIONS = 256  # gateway coverage: how many value combinations are tried at most


def rule_gateways(doc: Doc):
    for gateway in doc.iter("exclusiveGateway", "inclusiveGateway", "parallelGateway"):
        gid, local = gateway.get("id"), local_name(gateway)
        flows = doc.outgoing.get(gid, [])
        default = gateway.get("default")
        conditioned = {f.get("id") for f in flows if f.find("bpmn:conditionExpression", NS) is not None}
        if local == "parallelGateway":
            for flow in flows:
                if flow.get("id") in conditioned:
                    yield doc.problem(flow, "gateway", "并行网关的出口流不能带条件：每个分支都会执行。如需选择分支，请改用"
                                      "包容网关 (a flow leaving a parallel gateway cannot have a condition: "
                                      "every branch runs. Use an inclusive gateway to choose branches)")
            continue
        if default and default not in {f.get("id") for f in flows}:
            yield doc.problem(gateway, "gateway", f"默认流 '{default}' 不是从此网关出发的 (the default flow "
                              f"'{default}' does not leave this gateway)")
        if default in conditioned:
            yield doc.problem(doc.by_id.get(default), "gateway", "默认流不能带条件：没有其他条件成立时才走默认流 (the "
                              "default flow must not have a condition: it is taken when no other condition holds)")
        if len(flows) < 2:
            if default is None and conditioned and local == "exclusiveGateway":
                yield doc.problem(gateway, "gateway", "此网关唯一的出口流带有条件：条件不成立时流程会停在这里。请添加默认流 "
                                  "(the only flow leaving this gateway has a condition: when it is "
                                  "false the plan stops here. Add a default flow)")
            elif default is None and conditioned:
                yield from _coverage(doc, gateway, flows)
            continue
        missing = [f.get("id") for f in flows if f.get("id") != default and f.get("id") not in conditioned]
        if not missing:
            if default is None:
                yield from _coverage(doc, gateway, flows)
            continue
        names = ", ".join(missing)
        if default is None:
            yield doc.problem(gateway, "gateway", f"此网关分支时既没有默认流，也没有给每条出口流设条件（无条件的流："
                              f"{names}）。请给每条流设 ${{decision == 'approve'}} 这样的条件，或把兜底的流设为默认流"
                              "（扳手图标 → Default flow） (this gateway splits without a default flow and without a "
                              f"condition on every outgoing flow (no condition: {names}). Give each flow a condition "
                              "like ${decision == 'approve'}, or mark the catch-all flow as default (wrench icon → "
                              "Default flow))")
        else:
            yield doc.problem(gateway, "gateway", f"以下流没有条件，又不是默认流：{names}。只有一条流（默认流）可以不带"
                              f"条件 (flows without a condition that are not the default: {names}. "
                              "Only one flow (the default) may go without a condition)")


def _juel(value) -> str:
    return {True: "true", False: "false", None: "null"}.get(value, repr(value)) if not isinstance(value, str) \
        else repr(value)


def _coverage(doc: Doc, gateway, flows) -> Iterator[dict]:
    """A gateway without a default flow: every case must satisfy some condition, or the plan
    stops there at run time ("No conditions satisfied"). Proven by trying every combination of
    the values the conditions read, where form fields fix them (enum values, true/false)."""
    expressions = []
    for flow in flows:
        text = (flow.find("bpmn:conditionExpression", NS).text or "").strip()
        try:
            expressions.append(compile_expression(text, FUNCTION_NAMES))
        except ExpressionError:
            return  # refused by rule_conditions already
    names = sorted(set().union(*(e.names for e in expressions)))
    if any(e.functions & FUNCTION_NAMES for e in expressions) or names and set(names) & CAMUNDA_BUILTINS.keys():
        reason = ("有条件取决于日期或 Camunda 对象", "a condition depends on the date or on Camunda objects")
    elif [n for n in names if n not in doc.domains]:
        open_names = ", ".join(n for n in names if n not in doc.domains)
        reason = (f"{open_names} 不是此文件的枚举或布尔表单字段，取值未知",
                  f"{open_names}: not an enum or boolean form field of this file, so its values are not known")
    elif _combinations(names, doc.domains) > MAX_COMBINATIONS:
        reason = (f"取值组合超过 {MAX_COMBINATIONS} 种", f"more than {MAX_COMBINATIONS} combinations of values")
    else:
        reason = None
    if reason:
        yield doc.problem(gateway, "gateway", f"网关没有默认流，且无法证明各出口条件覆盖所有情况（{reason[0]}）。如有"
                          "遗漏，流程会停在此处；请设置默认流（扳手图标 → Default flow） (no default flow and the "
                          f"conditions cannot be shown to cover every case: {reason[1]}. Mark a catch-all flow as "
                          "default: wrench icon → Default flow)", "warning")
        return
    uncovered = []
    for combination in itertools.product(*(doc.domains[n] for n in names)):
        values = dict(zip(names, combination))
        if not any(_holds(e, values) for e in expressions):
            uncovered.append(", ".join(f"{n} = {_juel(v)}" for n, v in values.items()) or "always")
    if uncovered:
        shown = "; ".join(uncovered[:5]) + (f"; … ({len(uncovered)} cases)" if len(uncovered) > 5 else "")
        yield doc.problem(gateway, "gateway", f"网关没有默认流，{shown} 时没有任何出口条件成立，流程会停在此处；请添加"
                          f"默认流或条件 ({shown} matches no outgoing flow: add a default flow or a condition)")


def _combinations(names, domains) -> int:
    count = 1
    for name in names:
        count *= len(domains[name])
    return count


def _holds(expression, values) -> bool:
    try:
        return bool(expression.evaluate(values))
    except EvaluationError:
        return False  # the engine would refuse the action there: not a way out either


def rule_conditions_on_activities(doc: Doc):
    """A condition on a flow that leaves no gateway: Camunda's conditional flow, not supported."""
    for flow in doc.flows:
        if flow.find("bpmn:conditionExpression", NS) is None:
            continue
        source = doc.by_id.get(flow.get("sourceRef"))
        if source is not None and not is_bpmn(source, "exclusiveGateway", "inclusiveGateway", "parallelGateway",
                                                "eventBasedGateway"):
            yield doc.problem(flow, "gateway", "不支持从活动或事件出发的带条件的流（条件流）；请在其后加一个排他网关"
                              "或包容网关 (a condition on a flow that leaves an activity or event (conditional "
                              "flow) is not supported; put an exclusive or inclusive gateway after it)")


def rule_implicit_splits(doc: Doc):
    for node in doc.iter(*(FLOW_NODES - {"exclusiveGateway", "inclusiveGateway", "parallelGateway",
                                         "eventBasedGateway", "complexGateway"})):
        if len(doc.outgoing.get(node.get("id"), [])) > 1:
            yield doc.problem(node, "gateway", "从此元素出发的流不止一条（隐式分支），引擎不接受；请在其后画一个并行"
                              "网关或排他网关 (more than one flow leaves this element (implicit split), which the "
                              "engine refuses; draw a parallel or exclusive gateway after it)")


def rule_unreachable(doc: Doc):
    """Flow nodes no path from a start event reaches; a boundary event counts as reachable from its host."""
    for scope in doc.root.iter():
        if not is_bpmn(scope, *SCOPES) or (is_bpmn(scope, "process") and scope.get("isExecutable") != "true"):
            continue
        if scope.get("triggeredByEvent") == "true":
            continue  # refused as unsupported; its start events are triggered, not reached
        nodes = [c for c in scope if is_bpmn(c, *FLOW_NODES)]
        if not nodes:
            continue
        ids = {n.get("id"): n for n in nodes}
        starts = [n for n in nodes if is_bpmn(n, "startEvent")
                  or (is_bpmn(n, "intermediateCatchEvent") and any(is_bpmn(d, "linkEventDefinition") for d in n))
                  or n.get("isForCompensation") == "true" or n.get("triggeredByEvent") == "true"]
        if not any(is_bpmn(n, "startEvent") for n in nodes):
            what, zh = ("process", "流程") if is_bpmn(scope, "process") else ("subprocess", "子流程")
            yield doc.problem(scope, "unreachable", f"此{zh}没有开始事件，其中的任何元素都无法运行；请添加一个空白开始"
                              f"事件 (this {what} has no start event, so nothing in it can run; "
                              "add a (none) start event)")
            continue
        after = {nid: [f.get("targetRef") for f in doc.outgoing.get(nid, [])] for nid in ids}
        for boundary in nodes:  # reached when the activity it sits on is
            if is_bpmn(boundary, "boundaryEvent") and boundary.get("attachedToRef") in after:
                after[boundary.get("attachedToRef")].append(boundary.get("id"))
        found = reached((n.get("id") for n in starts), lambda nid: (t for t in after[nid] if t in ids))
        for node in nodes:
            if node.get("id") not in found:
                yield doc.problem(node, "unreachable", "从开始事件出发没有路径能到达此元素：请用顺序流连上它，或删除它 "
                                  "(no path from a start event reaches this element: connect it "
                                  "with a sequence flow or delete it)")


def gateway_conditions(doc: Doc) -> Iterator[tuple]:
    """(flow, its condition's text, the compiled expression) for each condition on a flow out of
    an exclusive or inclusive gateway that compiles (rule_conditions refuses the others)."""
    for flow in doc.flows:
        source = doc.by_id.get(flow.get("sourceRef"))
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is None or source is None or not is_bpmn(source, "exclusiveGateway", "inclusiveGateway"):
            continue
        text = (condition.text or "").strip()
        try:
            yield flow, text, compile_expression(text, FUNCTION_NAMES)
        except ExpressionError:
            continue


def rule_never_true_conditions(doc: Doc):
    """A condition no value of its enum and boolean form fields makes true (`${decision ==
    'aprove'}`, `${decision == 1}`): the flow is never taken, silently. Only conditions that read
    nothing but such fields are judged, as in _coverage."""
    for flow, text, expression in gateway_conditions(doc):
        names = sorted(expression.names)
        if (not names or expression.functions & FUNCTION_NAMES or any(n not in doc.domains for n in names)
                or _combinations(names, doc.domains) > MAX_COMBINATIONS):
            continue
        if any(_holds(expression, dict(zip(names, values)))
               for values in itertools.product(*(doc.domains[n] for n in names))):
            continue
        allowed = "; ".join(f"{n}: {', '.join(_juel(v) for v in doc.domains[n])}" for n in names)
        yield doc.problem(flow, "gateway", f"条件 `{text}` 在其表单字段的任何取值下都不成立（{allowed}），此流永远不会被"
                          "走到；请核对比较的值是否为枚举字段的值 id（或 true/false） (condition "
                          f"`{text}` holds for none of the values its form fields allow ({allowed}): this flow is "
                          "never taken; compare with the enum's value ids, or true/false)", "warning")
