"""The 流程图 of a plan: the diagram it runs on, then each called process it has entered, each
drawn (engine/diagram_svg.py) with where the plan stands on it, and its steps listed in words
for those who do not see the picture.

The states come from the plan's persisted workflow, not from the audit trail. The trail says
when user tasks opened and closed, but not which gateways, script tasks, events and call
activities a plan passed; SpiffWorkflow's task tree keeps every one of them, one task per run
(a loop back to drafting adds new tasks, it does not reuse the old ones), each in its state.
Reading it is the task page's read: the plan's row without a lock, its rows restored, nothing
written, and not through the engine's cache of workflows (taking a plan's workflow from it
would evict it for the next action).
"""
from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import IntermediateCatchEvent
from SpiffWorkflow.util.task import TaskState

from models import HumanTask, ProcessDefinition

from . import runtime
from .diagram_changes import KINDS
from .diagram_svg import EVENTS, GATEWAYS, TASKS, ElementState, diagram_process, draw, drawn_width, positions
from .errors import Invalid, NotFound
from .parser import BPMN_NS
from .walk import every_task

# A user task waits READY for its person; a call activity, subprocess or multi-instance runs
# STARTED while its inside does. WAITING is active only for an intermediate catch event (a timer
# or message the plan waits at): a boundary event waits as long as its task is open, armed but
# not where the plan is (Camunda Cockpit marks it only once it fired), and a join WAITING for
# its other branches is no step anyone does.
_RUNNING = TaskState.READY | TaskState.STARTED


def _owner_finder(workflow, called_keys: set[str]):
    """A function giving the key of the diagram that draws a (sub)workflow's elements: the plan's
    own, a called process's, or for an embedded subprocess the diagram of the task running it."""
    owners: dict[int, str] = {}

    def owner(flow) -> str:
        found = owners.get(id(flow))
        if found is None:
            if flow is workflow:
                found = workflow.spec.name
            elif flow.spec.name in called_keys:
                found = flow.spec.name
            else:  # embedded: the diagram of the task that runs it
                found = owner(workflow.get_task_from_id(flow.parent_task_id).workflow)
            owners[id(flow)] = found
        return found
    return owner


def _drawn(task) -> bool:
    """Whether the task is a run of a diagram element: not one of the engine's own tasks (no
    bpmn_id), nor an instance of a multi-instance activity ("<id> [child]"), which counts once."""
    spec = task.task_spec
    bpmn_id = getattr(spec, "bpmn_id", None)
    return bpmn_id is not None and spec.name == bpmn_id


def element_states(workflow, called_keys: set[str], *, withdrawn: frozenset = frozenset(),
                   stopped: bool = False) -> dict[str, dict[str, ElementState]]:
    """process key -> element id -> its state, for the plan's process and each called process it
    entered. An embedded subprocess's elements belong to the diagram that draws it; a process
    called twice (a second legality review after a redraft) counts both runs.

    `withdrawn`: the SpiffWorkflow ids of steps whose inbox rows were withdrawn (cancelled) while
    open: a review interrupted by its overdue timer, whose task the workflow keeps only as
    cancelled, like a branch never taken; those the inbox says were open are 已撤销, not 未到达.
    `stopped`: the plan was stopped (终止), its workflow kept as it stood: what was in progress
    then is withdrawn, not in progress now."""
    owner = _owner_finder(workflow, called_keys)
    completed: Counter = Counter()
    active: set = set()
    cancelled: set = set()
    for task in every_task(workflow):
        if not _drawn(task):
            continue
        where = (owner(task.workflow), task.task_spec.bpmn_id)
        if task.state == TaskState.COMPLETED:
            completed[where] += 1
        elif str(task.id) in withdrawn:
            cancelled.add(where)
        elif task.state & _RUNNING or (task.state == TaskState.WAITING
                                         and isinstance(task.task_spec, IntermediateCatchEvent)):
            (cancelled if stopped else active).add(where)
    states: dict[str, dict[str, ElementState]] = {}
    for where in set(completed) | active | cancelled:
        key, bpmn_id = where
        state = "active" if where in active else "completed" if completed[where] else "withdrawn"
        states.setdefault(key, {})[bpmn_id] = ElementState(state, completed[where])
    return states


# A task in one of these states was never reached: SpiffWorkflow's prediction of what may come.
_NOT_REACHED = TaskState.PREDICTED_MASK | TaskState.FUTURE


def flows_taken(workflow, called_keys: set[str]) -> dict[str, set[tuple[str, str]]]:
    """process key -> the (source, target) element pairs of the sequence flows the plan has
    passed along, in any run. SpiffWorkflow's tree records them: a task that was reached hangs
    under the task it came from (past the engine's own tasks in between, such as a boundary
    event's split), and that task was completed. A branch that arrived at a join first keeps its
    join task, cancelled when the join fired, under its last step: it is counted too. Pairs that
    are no flow (an activity and its boundary event, which share a parent) match no flow."""
    owner = _owner_finder(workflow, called_keys)
    taken: dict[str, set[tuple[str, str]]] = {}
    for task in every_task(workflow):
        if not _drawn(task) or task.state & _NOT_REACHED:
            continue
        source = task.parent
        while source is not None and not _drawn(source):
            source = source.parent
        if source is None or source.state != TaskState.COMPLETED or source.workflow is not task.workflow:
            continue
        taken.setdefault(owner(task.workflow), set()).add((source.task_spec.bpmn_id, task.task_spec.bpmn_id))
    return taken


def steps(root, process, states: dict[str, ElementState], taken: frozenset[str] = frozenset()) -> list[dict]:
    """The activities and events of the diagram (those named, and any the plan reached) and its
    gateways, in the order the diagram reads (left to right, then top to bottom), each with its
    state and `next`: where its sequence flows lead, with the flow's label (the condition the
    diagram writes on it) and whether the plan went along it (`taken`: flow_ids)."""
    at = positions(root, process.get("id"))
    names = {e.get("id"): e.get("name") for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
    leaving: dict[str, list[dict]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        target = flow.get("targetRef")
        leaving.setdefault(flow.get("sourceRef"), []).append({
            "target": target, "target_name": names.get(target) or target,
            "condition": (flow.get("name") or "").strip() or None, "taken": flow.get("id") in taken})
    found = []
    for element in process.iter():
        if not isinstance(element.tag, str):
            continue
        kind = element.tag.rsplit("}", 1)[-1]
        element_id = element.get("id")
        state = states.get(element_id)
        if not (kind in GATEWAYS or (kind in TASKS | EVENTS and (element.get("name") or state))):
            continue
        zh, en = KINDS.get(kind, (kind, kind))
        found.append({"id": element_id, "name": element.get("name") or element_id, "kind": kind,
                      "kind_zh": zh, "kind_en": en, "state": state.state if state else None,
                      "times": state.times if state else 0, "next": leaving.get(element_id, [])})
    order = {element_id: i for i, element_id in enumerate(s["id"] for s in found)}
    found.sort(key=lambda s: (*at.get(s["id"], (float("inf"), float("inf"))), order[s["id"]]))
    return found


def flow_ids(process, pairs: set[tuple[str, str]]) -> list[str]:
    """The ids of the process's sequence flows (its embedded subprocesses' too) that join one of
    the (source, target) `pairs`, in the order the file has them."""
    return [flow.get("id") for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow")
            if (flow.get("sourceRef"), flow.get("targetRef")) in pairs]


def diagram(definition, states: dict[str, ElementState] | None, taken: set[tuple[str, str]] | None = None, *,
            standalone: bool = False, page_width: float = 0) -> dict:
    """One process's picture and steps; `problem` instead of `svg` when it cannot be drawn.
    `taken`: the (source, target) pairs of the flows the plan passed along (flows_taken);
    `page_width`: the drawn width of the plan's own diagram, whose scale a called one takes."""
    states = states or {}
    title = f"{definition.name or definition.key} v{definition.version}"
    root, process = diagram_process(definition.bpmn_xml, definition.key, definition.file_name)
    view = {"key": definition.key, "name": definition.name or definition.key, "version": definition.version,
            "svg": None, "problem": None, "states": states, "flows_taken": flow_ids(process, taken or set())}
    try:
        view["svg"] = draw(root, process, states, taken=frozenset(view["flows_taken"]), title=title,
                           standalone=standalone, file_name=definition.file_name, page_width=page_width)
    except Invalid as exc:  # no diagram interchange: said on the page, the steps listed still
        view["problem"] = exc.message
    view["steps"] = steps(root, process, states, frozenset(view["flows_taken"]))
    return view


_DEFINITION = select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.name,
                     ProcessDefinition.version, ProcessDefinition.file_name, ProcessDefinition.bpmn_xml)


def definition_diagram(session, key: str, version: int) -> dict:
    """A deployed version's picture and steps, no plan's states on it."""
    row = session.execute(_DEFINITION.where(ProcessDefinition.key == key,
                                            ProcessDefinition.version == version)).one_or_none()
    if row is None:
        raise NotFound(f"流程 {key} 没有版本 {version} (no version {version} of process {key})")
    return diagram(row, None)


def plan_diagrams(ctx: runtime.Context, instance_id: int, *, standalone: bool = False) -> list[dict]:
    """The plan's process first, then each process it called, in the order it entered them."""
    plan = runtime.read_plan(ctx, instance_id)
    if plan is None:
        raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
    workflow = runtime.load(ctx, plan)
    bound = json.loads(plan.subprocess_definitions)  # called key -> the version bound at start
    withdrawn = frozenset(ctx.session.execute(select(HumanTask.spiff_task_id).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "cancelled")).scalars())
    states = element_states(workflow, set(bound), withdrawn=withdrawn, stopped=plan.status == "cancelled")
    taken = flows_taken(workflow, set(bound))
    entered = list(dict.fromkeys(s.spec.name for s in workflow.subprocesses.values() if s.spec.name in bound))
    ids = [plan.definition_id, *(bound[key] for key in entered)]
    rows = {row.id: row for row in ctx.session.execute(_DEFINITION.where(ProcessDefinition.id.in_(ids)))}
    main = diagram(rows[ids[0]], states.get(rows[ids[0]].key), taken.get(rows[ids[0]].key), standalone=standalone)
    # the called processes at the plan's own diagram's scale, on the page (not in a file of one)
    width = drawn_width(main["svg"]) if main["svg"] and not standalone else 0
    return [main, *(diagram(rows[i], states.get(rows[i].key), taken.get(rows[i].key), standalone=standalone,
                            page_width=width) for i in ids[1:])]
