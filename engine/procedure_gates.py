"""Which statutory procedures a plan does not need, as its diagrams say.

A procedure is not needed when every way to its steps passes one conditional flow of an
exclusive gateway, and that flow's condition is false for the plan's variables: reform_plan's
是否涉及群众切身利益 (`${touchesPublicInterest}`) guards public participation, 是否专业性技术性强
(`${technical}`) expert argumentation, 是否须风险评估 (`${riskAssessmentRequired}`) the call of
risk_assessment. Such a gate is found from the diagram alone: the procedure's steps (its user
tasks, and the subprocesses and call activities that hold some) are reachable from that flow
without passing the gateway again, from none of the gateway's other flows, and not from the start
around the gateway. The reason said is the gateway's name and the flow the plan takes instead
(是否涉及群众切身利益：不涉及). A condition that cannot be evaluated yet (a variable not set) decides
nothing: the procedure is then only not reached yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .expressions import ExpressionError, compile_expression
from .flow_reach import reached
from .parser import NS, property_values
from .procedures import PROPERTY, procedure_code
from .scripting import FUNCTION_NAMES
from .xmlsafe import parse_bpmn_bytes

_B = f"{{{NS['bpmn']}}}"


@dataclass(frozen=True)
class Gate:
    gateway: str  # the gateway's name (or id)
    condition: str  # the condition of the flow towards the procedure
    otherwise: str  # the name of the flow the plan takes when it is false

    @property
    def reason(self) -> str:
        return f"{self.gateway}：{self.otherwise}" if self.otherwise else self.gateway


@dataclass
class Container:
    """A process or subprocess: its flow nodes, their flows and what each node holds."""
    id: str
    kinds: dict[str, str] = field(default_factory=dict)  # node id -> local tag (userTask, callActivity …)
    names: dict[str, str] = field(default_factory=dict)
    flows: dict[str, list[tuple[str, str, str | None, str]]] = field(default_factory=dict)  # source -> (flow id, target, condition, name)
    defaults: dict[str, str] = field(default_factory=dict)  # gateway -> its default flow id
    procedures: dict[str, str] = field(default_factory=dict)  # user task -> procedure code
    called: dict[str, str] = field(default_factory=dict)  # call activity -> called process id
    inner: dict[str, Container] = field(default_factory=dict)  # subprocess node -> its container


def containers(xml: bytes, file_name: str) -> dict[str, Container]:
    """The top-level processes of one BPMN file by id (their subprocesses inside them)."""
    root = parse_bpmn_bytes(xml, file_name).getroot()
    return {p.get("id"): _container(p) for p in root.iterfind("bpmn:process", NS)}


def _container(element) -> Container:
    c = Container(element.get("id"))
    for child in element:
        if not isinstance(child.tag, str) or not child.tag.startswith(_B):
            continue
        tag, node = child.tag[len(_B):], child.get("id")
        if tag == "sequenceFlow":
            condition = child.find("bpmn:conditionExpression", NS)
            c.flows.setdefault(child.get("sourceRef"), []).append(
                (node, child.get("targetRef"), (condition.text or "").strip() if condition is not None else None,
                 child.get("name") or ""))
            continue
        if tag in ("laneSet", "documentation", "extensionElements", "textAnnotation", "association",
                   "dataObject", "dataObjectReference", "dataStoreReference"):
            continue
        c.kinds[node], c.names[node] = tag, child.get("name") or node
        if child.get("default"):
            c.defaults[node] = child.get("default")
        if tag == "boundaryEvent":  # reached when the activity it sits on is
            c.flows.setdefault(child.get("attachedToRef"), []).append((f"{node}#attached", node, None, ""))
        elif tag == "userTask":
            code = procedure_code(next(iter(property_values(child, PROPERTY)), None))
            if code:
                c.procedures[node] = code
        elif tag == "callActivity":
            c.called[node] = child.get("calledElement") or ""
        elif tag in ("subProcess", "transaction", "adHocSubProcess"):
            c.inner[node] = _container(child)
    return c


class Library:
    """The processes a plan is bound to (its own and those it calls), by process id."""

    def __init__(self, processes: dict[str, Container]):
        self.processes = processes
        self._held: dict[int, set[str]] = {}
        self._gates: dict[tuple[int, str], list[Gate]] = {}  # what the diagrams say, whatever the plan

    def held(self, c: Container, node: str, seen: frozenset = frozenset()) -> set[str]:
        """The procedures whose steps node `node` of `c` is or holds."""
        if node in c.procedures:
            return {c.procedures[node]}
        if node in c.inner:
            return self.within(c.inner[node], seen)
        if node in c.called and c.called[node] in self.processes and c.called[node] not in seen:
            return self.within(self.processes[c.called[node]], seen | {c.called[node]})
        return set()

    def within(self, c: Container, seen: frozenset = frozenset()) -> set[str]:
        key = id(c)
        if key not in self._held:
            self._held[key] = {code for node in c.kinds for code in self.held(c, node, seen)}
        return self._held[key]

    def gates(self, c: Container, code: str) -> list[Gate]:
        """The gates in `c` that every way to `code`'s steps in it passes (see the module's doc)."""
        key = (id(c), code)
        if key not in self._gates:
            self._gates[key] = self._find_gates(c, code)
        return self._gates[key]

    def _find_gates(self, c: Container, code: str) -> list[Gate]:
        targets = {n for n in c.kinds if code in self.held(c, n)}
        if not targets:
            return []
        starts = [n for n, kind in c.kinds.items() if kind == "startEvent"]
        found = []
        for gateway, kind in c.kinds.items():
            if kind not in ("exclusiveGateway", "inclusiveGateway"):
                continue
            if targets & _reach(c, starts, gateway):
                continue  # the steps are reached around the gateway
            out = c.flows.get(gateway, [])
            for flow, target, condition, _name in out:
                if not condition or not targets <= _reach(c, [target], gateway):
                    continue
                others = [o for o in out if o[0] != flow]
                if any(targets & _reach(c, [o[1]], gateway) for o in others):
                    continue
                default = next((o[3] for o in others if o[0] == c.defaults.get(gateway)), None)
                otherwise = default if default is not None else "、".join(o[3] for o in others if o[3])
                found.append(Gate(c.names.get(gateway) or gateway, condition, otherwise))
        return found

    def not_needed(self, c: Container, code: str, decide, seen: frozenset = frozenset()) -> str | None:
        """Why `code` is not needed in `c`, or None (needed, or not known yet). `decide(condition)`
        is True or False, or None when it cannot be evaluated yet."""
        for gate in self.gates(c, code):
            if decide(gate.condition) is False:
                return gate.reason
        reasons = []
        for node in (n for n in c.kinds if code in self.held(c, n)):
            if node in c.procedures:
                return None  # a step of it on a way no gate closes
            inner = c.inner.get(node) or self.processes.get(c.called.get(node, ""))
            if inner is None or id(inner) in seen:  # a process calling itself: no further
                return None
            reason = self.not_needed(inner, code, decide, seen | {id(c)})
            if reason is None:
                return None
            reasons.append(reason)
        return reasons[0] if reasons else None


def _reach(c: Container, starts: list[str], avoid: str) -> set[str]:
    """The nodes reached from `starts` (included) along flows, never passing `avoid`."""
    return reached((s for s in starts if s != avoid),
                   lambda node: (t for _, t, _, _ in c.flows.get(node, []) if t != avoid))


def deciding(variables: dict):
    """A condition's value over the plan's variables: True, False, or None when it cannot be
    evaluated (a variable not set yet; a condition that counts dates or working days, which no
    gate of a procedure needs, is not evaluated either)."""
    def decide(condition: str) -> bool | None:
        try:
            value = compile_expression(condition, FUNCTION_NAMES).evaluate(variables, {})
        except (ExpressionError, KeyError, TypeError, ValueError, AttributeError):
            return None
        return None if value is None else bool(value)
    return decide
