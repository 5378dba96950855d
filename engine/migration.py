"""Moving a running plan to a newer version of its process (方案迁移到新版本, reform office only).

SpiffWorkflow 3.2's own `diff_workflow` / `migrate_workflow` (SpiffWorkflow.bpmn.util.diff) give
each task of the plan, and of its embedded subprocesses, the task spec of the same element id in
the target version; open steps (ready and waiting tasks) are then predicted afresh, so whatever the
plan has not reached yet follows the target version. What reformflow adds:

- refusals, before anything changes: an open step, or a step the plan has passed through, that the
  target no longer has (by id: SpiffWorkflow would otherwise match by shape); an open step whose
  kind changed; an open step whose boundary events the target adds or removes; parallel branches
  the plan is inside whose branches or join the target changes, or a parallel join ahead waiting
  for a branch split behind the plan (the split is not run again: the plan would stand still); a
  field the target's start form requires that the plan was started without. A called process
  still running that has no newer version while the process calling it moves stays (its own plan
  of steps stays on its version);
- a called process the plan is inside (running) moves too when its key has a newer deployed
  version than the plan bound: to the latest, by the same rules (element ids, open steps kept, its
  embedded subprocesses with it). Every call of that key the plan holds moves with it (one plan
  binds one version per key). A plan whose own process has no newer version may move its running
  called processes alone (只迁移被调用流程);
- an open step keeps what it was given when reached: its data (a multi-instance item's variable)
  and internal data (a boundary timer's due moment), which SpiffWorkflow's reset would drop; its
  inbox row keeps holder, claim, deadline, drafts and comments and takes the target's name,
  instructions, form and candidates (its version moves on, so a page showing the old form is
  refused as stale);
- where the target changed an open step's due-date rule (camunda:dueDate) or a waiting timer's
  rule, the deadline or moment is counted again under the new rule from what the old one was
  counted from (engine/recount.py: the step's due_basis, the timer's start), shown old -> new in
  the preview and recorded as `task_due_changed` / `timer_moved` with reason "migration": the
  office moves a plan to apply a corrected rule (periodEnd, Civil Code Art. 203). A rule that did
  not change keeps its deadline exactly;
- calls not made yet are bound to the latest deployed versions, as a start would bind them now; a
  called process the plan already entered keeps the version it ran (its finished state needs it);
- process properties new in the target are added to the plan's variables; values it started with
  stay (docs/modeling.md).

`prepare` computes all of it without changing anything (the preview); `apply` carries it out in the
command's transaction, refused as a conflict where a called version deployed since the preview
would bind a version it did not show (`called_versions`).
"""
from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update

from models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate
from models.process import is_open

from . import diagram_changes, forms, recount, runtime
from .deadlines import TimerValueError
from .errors import Conflict, Invalid, NotFound
from .expressions import ExpressionError
from .parser import NS, setting
from .queries import iso
from .state import SPEC_SERIALIZER
from .xmlsafe import parse_bpmn_bytes

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# history a person or the trail saw happen: a task in these states must keep its element
PASSED = TaskState.COMPLETED | TaskState.ERROR | OPEN


@dataclass
class Move:
    """A migration worked out: what it would do and whether it may."""
    plan: runtime.Plan
    source: ProcessDefinition
    target: ProcessDefinition
    called: dict[str, ProcessDefinition]  # key -> the version bound after the move
    old_called: dict[str, int]  # key -> definition id bound before
    moving: set[str] = field(default_factory=set)  # running called processes moving to a newer version
    labels: dict = field(default_factory=dict)  # owner workflow -> (zh, en) naming the version it moves to
    homes: dict = field(default_factory=dict)  # subworkflow -> the called process it belongs to (_homes)
    steps: list[dict] = field(default_factory=list)  # the open steps and what becomes of them
    properties_added: dict = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    pruned: list = field(default_factory=list)  # tasks nobody saw (predicted, cancelled) of removed elements
    behind: set[str] = field(default_factory=set)  # the target's own elements its open steps do not lead to
    # open steps whose due-date rule changed, counted again under the new one (_recount_due)
    due_dates: list[dict] = field(default_factory=list)
    timers: dict = field(default_factory=dict)  # waiting timer task id -> its moment under a changed rule
    elsewhere: dict = field(default_factory=dict)  # owner -> {element: the target's subprocess now holding it}
    definitions: Definitions | None = None  # what the reading has looked up already (many previews)


class Definitions:
    """The deployed definitions one reading asks for, each looked up once: many previews in one
    transaction (Engine.migration_candidates) ask for the same latest versions again and again.
    Called as `latest(session, key)` is (Engine._latest), it stands where that is expected."""

    def __init__(self, latest, *known: ProcessDefinition):
        self._find_latest = latest
        self._latest: dict[str, ProcessDefinition | None] = {}
        self._versions = {(d.key, d.version): d for d in known}
        self._numbers: dict[int, int] = {}
        self._changes: dict[tuple[int, int], list[dict]] = {}

    def __call__(self, session, key: str) -> ProcessDefinition | None:
        if key not in self._latest:
            self._latest[key] = self._find_latest(session, key)
        return self._latest[key]

    def remember_latest(self, definition: ProcessDefinition) -> None:
        self._latest[definition.key] = definition
        self._versions[(definition.key, definition.version)] = definition

    def version(self, session, key: str, version: int) -> ProcessDefinition | None:
        if (key, version) not in self._versions:
            self._versions[(key, version)] = session.execute(select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version == version)).scalars().first()
        return self._versions[(key, version)]

    def versions_of(self, session, ids) -> dict[int, int]:
        """definition id -> its version."""
        if missing := set(ids) - set(self._numbers):
            self._numbers.update(_versions_of(session, missing))
        return {i: self._numbers[i] for i in ids if i in self._numbers}

    def changes(self, old: ProcessDefinition, new: ProcessDefinition, key: str) -> list[dict]:
        """_changes, compared once for each pair of versions (a copy each time: a preview's own)."""
        if (old.id, new.id) not in self._changes:
            self._changes[(old.id, new.id)] = _changes(old, new, key)
        return deepcopy(self._changes[(old.id, new.id)])


def target_of(session, source: ProcessDefinition, to_version: int | None, *, may_stay: bool = False,
              definitions: Definitions | None = None) -> ProcessDefinition:
    """The version to move to: `to_version`, or the latest; newer than the plan's, else refused.
    `may_stay`: a running called process moves, so the plan's own version may stay as it is.
    `definitions`: the definitions already looked up in this reading."""
    if definitions is not None:
        target = definitions(session, source.key) if to_version is None \
            else definitions.version(session, source.key, to_version)
    else:
        query = select(ProcessDefinition).where(ProcessDefinition.key == source.key)
        query = query.where(ProcessDefinition.version == to_version) if to_version is not None \
            else query.order_by(ProcessDefinition.version.desc()).limit(1)
        target = session.execute(query).scalars().first()
    if target is None:
        raise NotFound(f"流程 {source.key} 没有第 {to_version} 版，见 `reformflow definitions` "
                       f"(process {source.key} has no version {to_version})")
    if target.version <= source.version and to_version is None:
        if may_stay:
            return source
        raise Invalid(f"方案按「{source.name}」第 {source.version} 版办理，已是最新版本，无需迁移。如需按新版本办理，请先部署新版本。 "
                      f"(the plan runs the latest version, {source.version}: nothing to move it to; deploy a new one first)")
    if target.version == source.version and may_stay:
        return source
    if target.version <= source.version:
        raise Invalid(f"方案在「{source.name}」第 {source.version} 版上，第 {target.version} 版不比它新，不能迁移：请指定更新的版本 "
                      f"(the plan runs version {source.version}; version {target.version} is not newer: name a newer one)")
    return target


def prepare(ctx: runtime.Context, plan: runtime.Plan, workflow, to_version: int | None, latest) -> tuple[Move, dict]:
    """The move and the target's specs, nothing changed. `latest(session, key)` is the latest
    deployed definition of a key (Engine._latest, or a Definitions of the reading)."""
    s = ctx.session
    source = s.get(ProcessDefinition, plan.definition_id)
    old_called = json.loads(plan.subprocess_definitions)
    homes = _homes(workflow, old_called)
    moving = _moving_calls(s, workflow, homes, old_called, latest)
    target = target_of(s, source, to_version, may_stay=bool(moving),
                       definitions=latest if isinstance(latest, Definitions) else None)
    entered = {sp.spec.name for sp in workflow.subprocesses.values()}
    called = _bind(s, target, old_called, entered, latest, moving)
    spec, subprocess_specs = runtime.specs_for(ctx, target.id, {k: d.id for k, d in called.items()})
    move = Move(plan, source, target, called, old_called, moving=set(moving), homes=homes,
                definitions=latest if isinstance(latest, Definitions) else None)
    _, new_embedded = runtime.specs_for(ctx, target.id, {})
    targets = _targets(ctx, move, workflow, homes, spec, new_embedded)
    for owner, new_spec in targets.items():
        _check_tasks(move, owner, new_spec)
    _describe_steps(ctx, move, workflow, targets)
    if workflow in targets and not any(s["kept"] == "missing" and s["process"] == workflow.spec.name for s in move.steps):
        # (an open step the target lacks leads nowhere in it: everything would look passed)
        move.behind = set(spec.task_specs) - _ahead_of(workflow, spec)
    move.properties_added = _new_properties(source, target)
    _check_start_form(move, runtime.Survey(workflow, set()).variables)
    return move, {"spec": spec, "subprocess_specs": subprocess_specs, "embedded": new_embedded, "targets": targets}


def _bind(session, target, old_called: dict[str, int], entered: set[str], latest,
          moving: dict[str, ProcessDefinition]) -> dict[str, ProcessDefinition]:
    """Every process the target calls, transitively: the version the plan ran where it entered
    it, else the latest deployed one (as a start binds them now); a running called process that
    moves, its new version. A process the plan entered stays bound even if the target no longer
    calls it: its finished state is restored with it."""
    bound, pending = {}, [*json.loads(target.called_keys), *(k for k in old_called if k in entered)]
    while pending:
        key = pending.pop()
        if key in bound:
            continue
        kept = old_called.get(key) if key in entered and key not in moving else None
        definition = moving.get(key) or (session.get(ProcessDefinition, kept) if kept else latest(session, key))
        if definition is None:
            raise Invalid(f"流程 {target.key} 第 {target.version} 版调用的子流程 {key} 尚未部署，请先部署 "
                          f"(the called process {key} is not deployed; deploy it first)")
        bound[key] = definition
        pending.extend(json.loads(definition.called_keys))
    return bound


def _call_key(workflow, sub, bound) -> str | None:
    """The called process's key when `sub` is a call's subworkflow, else None (an embedded one:
    SpiffWorkflow's Camunda parser makes a subProcess a CallActivity too, so the key tells them
    apart: a called process is one the plan bound a version of)."""
    owner = workflow.get_task_from_id(sub.parent_task_id)
    if owner is None or not isinstance(owner.task_spec, CallActivity):
        return None
    return owner.task_spec.spec if owner.task_spec.spec in bound else None


def _homes(workflow, bound) -> dict:
    """Each subworkflow -> the key of the called process it belongs to (the call itself, or the
    call an embedded subprocess lies in), None for the plan's own embedded subprocesses."""
    homes: dict = {}

    def home(sub):
        if sub not in homes:
            key = _call_key(workflow, sub, bound)
            if key is None:
                parent = workflow.get_task_from_id(sub.parent_task_id).workflow
                key = None if parent is workflow else home(parent)
            homes[sub] = key
        return homes[sub]
    for sub in workflow.subprocesses.values():
        home(sub)
    return homes


def _moving_calls(session, workflow, homes: dict, old_called: dict[str, int], latest) -> dict[str, ProcessDefinition]:
    """The called processes the plan is inside (running) whose key has a newer deployed version
    than the plan bound: key -> that latest version."""
    moving = {}
    for sub in workflow.subprocesses.values():
        key = _call_key(workflow, sub, old_called)
        if key is None or sub.completed or key in moving:
            continue
        bound = session.get(ProcessDefinition, old_called[key])
        newest = latest(session, key)
        if bound is not None and newest is not None and newest.version > bound.version:
            moving[key] = newest
    return moving


def _targets(ctx, move: Move, workflow, homes: dict, spec, new_embedded: dict) -> dict:
    """The plan and its embedded subprocesses (when its own version moves), and each subworkflow
    of a called process that moves (the call and its embedded subprocesses) -> its spec in the
    version it moves to, None where that version has no such subprocess."""
    targets = {}
    own = (f"第 {move.target.version} 版", f"version {move.target.version}")
    if move.target.id != move.source.id:
        targets[workflow] = spec
        move.labels[workflow] = own
        move.elsewhere[workflow] = _places(spec, new_embedded)
    called_specs = {key: runtime.specs_for(ctx, move.called[key].id, {}) for key in move.moving}
    for sub, key in homes.items():
        if key is None:
            if move.target.id != move.source.id:
                targets[sub], move.labels[sub] = new_embedded.get(sub.spec.name), own
                move.elsewhere[sub] = _places(spec, new_embedded)
        elif key in move.moving:
            called_spec, embedded = called_specs[key]
            version = move.called[key].version
            targets[sub] = called_spec if _call_key(workflow, sub, move.old_called) == key else embedded.get(sub.spec.name)
            move.labels[sub] = (f"被调用流程 {key} 第 {version} 版", f"version {version} of the called process {key}")
            move.elsewhere[sub] = _places(called_spec, embedded)
    return targets


def _places(top, embedded: dict) -> dict:
    """Each element of a version's embedded subprocesses -> that subprocess's spec: where the
    version put a step another part of the process held before."""
    return {name: sub for sub in embedded.values() for name in sub.task_specs if sub is not top}


def _step(task) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None)
    return f"{getattr(spec, 'bpmn_id', None) or spec.name}「{name}」" if name else (getattr(spec, "bpmn_id", None) or spec.name)


def _shown(task):
    """The task a person knows for `task`: for SpiffWorkflow's own node before a step with
    boundary events (Task_FileDocument.BoundaryEventSplit), that step, which is in the diagram."""
    return runtime.guarded_step(task) or task


def _check_tasks(move: Move, owner, new_spec) -> None:
    """Refuse where an open or passed task's element is gone; note the rest of the gone ones
    (never-seen predictions, cancelled branches) for pruning."""
    zh, en = move.labels[owner]
    if new_spec is None:
        if any(t.state & PASSED for t in owner.tasks.values()):
            move.refusals.append(
                f"方案已进入的子流程 {owner.spec.name} 在{zh}中已删除，不能迁移：请在新版本中保留该子流程"
                f"（元素 id 不变），或终止本方案后重新发起 (the plan has been in the subprocess {owner.spec.name}, which "
                f"{en} no longer has: keep it (same id) in the new version, or stop the plan "
                "and start a new one)")
        return
    for task in owner.tasks.values():
        if task.task_spec.name in new_spec.task_specs:
            continue
        parent = task.parent
        if parent is not None and parent.task_spec.name not in new_spec.task_specs:
            continue  # said (or pruned) with its parent
        shown = _shown(task)
        moved_to = move.elsewhere.get(owner, {}).get(task.task_spec.name)
        if moved_to is not None and moved_to.name != new_spec.name and (shown.state & OPEN or any(
                t.state & PASSED for t in task)):
            move.refusals.append(_moved_into(shown, moved_to, zh, en, bool(shown.state & OPEN)))
        elif shown.state & OPEN:
            move.refusals.append(
                f"当前待办环节 {_step(shown)} 在{zh}中没有同 id 的元素，不能迁移：请在新版本中保留"
                f"该环节（元素 id 不变），或等这一步办完后再迁移 (the open step {_step(shown)} has no element with the same "
                f"id in {en}: keep it (same id) in the new version, or move the plan once "
                "this step is done)")
        elif any(t.state & PASSED for t in task):
            move.refusals.append(
                f"方案已办过的环节 {_step(shown)} 在{zh}中已删除，迁移后无法保留其办理经过，不能迁移："
                f"请在新版本中保留该环节（元素 id 不变），或终止本方案后重新发起 (the plan has passed the step "
                f"{_step(shown)}, which {en} no longer has: keep it (same id) in the new "
                "version, or stop the plan and start a new one)")
        else:
            move.pruned.append(task)
    _check_forks(move, owner, new_spec)
    _check_joins_ahead(move, owner, new_spec)


def _moved_into(shown, sub, zh: str, en: str, still_open: bool) -> str:
    """The refusal of a step the target moved into an embedded subprocess: a running plan cannot
    follow it (the step would have to run inside an instance of that subprocess which never
    started here, with none of its events and data), and need not: it ends on its own version."""
    where = f"子流程「{sub.description}」（{sub.name}）" if sub.description and sub.description != sub.name \
        else f"子流程 {sub.name}"
    where_en = f"the subprocess 「{sub.description}」 ({sub.name})" if sub.description and sub.description != sub.name \
        else f"the subprocess {sub.name}"
    if still_open:
        return (f"当前待办环节 {_step(shown)} 在{zh}中移入了{where}，进行中的方案无法随之移入（本方案没有进入过该子流程），不能迁移："
                f"本方案按原版本继续办理直至办结即可，新版本适用于此后发起的方案 (the open step {_step(shown)} moved into "
                f"{where_en} in {en}; a running plan cannot follow it there (the plan never entered that subprocess): "
                "the plan goes on to its end on its own version, which is fine; new plans start on the new version)")
    return (f"方案已办过的环节 {_step(shown)} 在{zh}中移入了{where}，迁移后无法保留其办理经过，不能迁移："
            f"本方案按原版本继续办理直至办结即可，新版本适用于此后发起的方案 (the plan has passed the step {_step(shown)}, "
            f"which {en} moved into {where_en}: a running plan cannot keep what it did there after a move. The plan "
            "goes on to its end on its own version, which is fine; new plans start on the new version)")


def _check_forks(move: Move, owner, new_spec) -> None:
    """Refuse where the plan is inside parallel branches (a parallel or inclusive split passed, a
    step or a join of its branches still open) whose branches or join the target changes: the split
    is not run again, so a branch the target adds would never be reached and its join would wait
    for it for ever; a join with other incoming branches waits for others than those under way."""
    def targets(spec, side):
        return {t.name for t in getattr(spec, side)}
    for task in owner.tasks.values():
        spec = task.task_spec
        if task.state != TaskState.COMPLETED or not isinstance(spec, UnstructuredJoin) or len(spec.outputs) < 2:
            continue
        inside, joins = _branches(task)
        if not inside or spec.name not in new_spec.task_specs:
            continue
        changed = targets(spec, "outputs") != targets(new_spec.task_specs[spec.name], "outputs") or any(
            join.name in new_spec.task_specs and targets(join, "inputs") != targets(new_spec.task_specs[join.name], "inputs")
            for join in joins)
        if changed:
            zh, en = move.labels[owner]
            move.refusals.append(
                f"方案正在并行分支 {_step(task)} 之后办理，{zh}改变了这些分支或其汇合，不能迁移：请等各分支汇合后"
                f"再迁移，或在新版本中保持这些分支及其汇合不变 (the plan is inside the parallel branches after "
                f"{_step(task)}, whose branches or join {en} changes: move the plan once the branches have "
                "joined, or keep them and their join as they are in the new version)")
            return


def _describe_steps(ctx, move: Move, workflow, targets: dict) -> None:
    """Each open step (a user task waiting for someone, a timer, a message, a subprocess under
    way) and what the target changes of it."""
    rows = {r.spiff_task_id: r for r in ctx.session.execute(
        select(HumanTask.id, HumanTask.spiff_task_id, HumanTask.assignee, HumanTask.status, HumanTask.created_at,
               HumanTask.due_at, HumanTask.due_basis).where(
            HumanTask.instance_id == move.plan.id, is_open(HumanTask.status)))}
    survey = runtime.Survey(workflow, set())
    for owner, new_spec in targets.items():
        if new_spec is None:
            continue
        for task in owner.tasks.values():
            spec = task.task_spec
            if not task.state & OPEN or not getattr(spec, "bpmn_id", None):
                continue
            if task.state == TaskState.WAITING and not hasattr(spec, "event_definition"):
                continue  # a join waiting for its other branches: no step of its own
            row = rows.get(str(task.id))
            if spec.name not in new_spec.task_specs:  # refused (_check_tasks), and listed as what stops it
                move.steps.append({"element_id": spec.bpmn_id, "name": spec.bpmn_name, "new_name": None,
                                   "process": owner.spec.name, "called": move.homes.get(owner),
                                   "task_id": row.id if row else None, "assignee": row.assignee if row else None,
                                   "changes": [], "kept": "missing"})
                continue
            new = new_spec.task_specs[spec.name]
            item = {"element_id": spec.bpmn_id, "name": spec.bpmn_name, "new_name": new.bpmn_name,
                    "process": owner.spec.name, "called": move.homes.get(owner),
                    "task_id": row.id if row else None,
                    "assignee": row.assignee if row else None,
                    "changes": _step_changes(spec, new)}
            if type(new) is not type(spec):
                zh, en = move.labels[owner]
                move.refusals.append(
                    f"当前待办环节 {_step(task)} 在{zh}中换成了另一种元素，不能迁移：请保留其类型，"
                    f"或等这一步办完后再迁移 (the open step {_step(task)} is another kind of element in "
                    f"{en}: keep its kind, or move the plan once this step is done)")
            if _boundary_events(owner.spec, spec) != _boundary_events(new_spec, spec):
                zh, en = move.labels[owner]
                move.refusals.append(
                    f"当前待办环节 {_step(task)} 的边界事件（如提醒、超时）在{zh}中有增删，不能迁移：这一步已开始，"
                    f"新增的不会为它设置，删除的无从撤下，办理时将出错。请等这一步办完后再迁移，或在新版本中保持其边界事件不变 "
                    f"(the boundary events (reminders, time limits) of the open step {_step(task)} are added or removed in "
                    f"{en}: the step has begun, so they cannot be set or taken off it, and completing it would fail. "
                    "Move the plan once this step is done, or keep its boundary events as they are)")
            item["kept"] = "changed" if item["changes"] else "as_is"
            try:
                if "due" in item["changes"] and row is not None:
                    item["recounted"] = _recount_due(ctx, move, task, new, row, survey)
                elif "timer" in item["changes"] and task.state == TaskState.WAITING:
                    item["recounted"] = _recount_timer(ctx, move, task, new, rows)
            except (ExpressionError, TimerValueError) as exc:
                move.refusals.append(
                    f"当前待办环节 {_step(task)} 按{move.labels[owner][0]}的期限或定时规则无法计算：{exc}。不能迁移，"
                    f"请更正新版本中的该规则 (the deadline or timer rule of {_step(task)} in {move.labels[owner][1]} "
                    "cannot be counted for this plan: correct that rule in the new version)")
            move.steps.append(item)


def _recount_due(ctx, move: Move, task, new_spec, row, survey) -> dict | None:
    """An open step whose due-date rule the target changed: its deadline under the new rule,
    from what the old one was counted from (engine/recount.py); kept to write when the plan moves.
    Returns {"old", "new"} for the preview."""
    due, basis = recount.due_under_rule(ctx.environment, _ext(new_spec, "camunda:dueDate"), row.due_basis,
                                        row.created_at, runtime._deadline_variables(task, survey))
    move.due_dates.append({"task_id": row.id, "element_id": new_spec.bpmn_id, "name": new_spec.bpmn_name,
                           "old": row.due_at, "new": due, "basis": basis})
    return {"old": iso(row.due_at), "new": iso(due)}


def _recount_timer(ctx, move: Move, timer, new_spec, rows: dict) -> dict | None:
    """A waiting timer whose rule the target changed: its moment under the new rule, counted from
    when it started (with the step or subprocess it sits on; an intermediate timer from when it
    began waiting). None for a cycle, which keeps its moment."""
    old = timer._get_internal_data("event_value")
    holder = _timer_holder(timer)
    row = rows.get(str(holder.id)) if holder is not None else None
    since = row.created_at if row is not None else recount.started(holder or timer)
    new = recount.timer_under_rule(ctx.environment, timer, _timer(new_spec), since) if old is not None else None
    if new is None:
        return None
    move.timers[timer.id] = {"task_id": row.id if row is not None else None, "element_id": new_spec.bpmn_id,
                             "name": new_spec.bpmn_name, "old": old, "new": new}
    return {"old": _moment(old), "new": _moment(new)}


def _timer_holder(timer):
    """The activity a boundary timer sits on (SpiffWorkflow hangs both below a split named after
    the activity), else None."""
    split = timer.parent
    name = split.task_spec.name.removesuffix(".BoundaryEventSplit") if split is not None else None
    if split is None or name == split.task_spec.name:
        return None
    return next((t for t in split.children if t.task_spec.name == name), None)


def _moment(value: str) -> str:
    """A timer's moment as the other instants are said (UTC ISO)."""
    return datetime.fromisoformat(value).astimezone(timezone.utc).isoformat()


def _ahead_of(owner, new_spec) -> set[str]:
    """The task spec names of `new_spec` that the owner's open steps lead to (loops included)."""
    ahead, pending = set(), [new_spec.task_specs[t.task_spec.name] for t in owner.tasks.values()
                             if t.state & OPEN and t.task_spec.name in new_spec.task_specs]
    while pending:
        spec = pending.pop()
        if spec.name not in ahead:
            ahead.add(spec.name)
            pending.extend(spec.outputs)
    return ahead


def _check_joins_ahead(move: Move, owner, new_spec) -> None:
    """Refuse where a parallel join the plan will reach in the target waits for a branch none of its
    open steps leads to (the target put a parallel split behind them: it is not run again), unless
    the join is already waiting for the branches under way (_check_forks judges those)."""
    waiting = {t.task_spec.name for t in owner.tasks.values() if t.state == TaskState.WAITING}
    ahead = _ahead_of(owner, new_spec)
    for name in sorted(ahead - waiting):
        join = new_spec.task_specs[name]
        if isinstance(join, ParallelGateway) and len(join.inputs) > 1 and any(i.name not in ahead for i in join.inputs):
            zh, en = move.labels[owner]
            move.refusals.append(
                f"{zh}在方案当前环节之后的并行汇合 {join.name} 要等待方案不会再经过的分支（其并行分支起点在当前环节之前），"
                f"迁移后方案将停在该汇合处，不能迁移：请在新版本中把该并行分支整个放在当前环节之后，或等方案办过该汇合后再迁移 "
                f"(the parallel join {join.name} ahead of the plan in {en} waits for a branch the plan will never take "
                "(its split lies behind the open steps): the plan would stand still there. Put the whole parallel "
                "section after the open steps in the new version, or move the plan once it is past that join)")
            return


def _branches(split) -> tuple[bool, set]:
    """Whether a step of the branches below a passed split is still open (a join that has fired
    closes them), and the join specs met there."""
    inside, joins, pending = False, set(), list(split.children)
    while pending:
        task = pending.pop()
        spec = task.task_spec
        if isinstance(spec, UnstructuredJoin) and len(spec.inputs) > 1:
            joins.add(spec)
            if task.state & (TaskState.COMPLETED | TaskState.CANCELLED):
                continue
        inside = inside or bool(task.state & OPEN)
        pending.extend(task.children)
    return inside, joins


def _boundary_events(process_spec, step) -> set[str]:
    """The ids of the boundary events attached to `step` in a process spec (SpiffWorkflow puts a
    split before a step with boundary events, reached before the step itself)."""
    split = process_spec.task_specs.get(f"{step.name}.BoundaryEventSplit")
    return {s.name for s in split.outputs if s.name != step.name} if split is not None else set()


def _timer(spec) -> str | None:
    """A timer event's duration, date or cycle expression."""
    return getattr(getattr(spec, "event_definition", None), "expression", None)


def _ext(spec, name: str):
    return (getattr(spec, "extensions", None) or {}).get(name)


def _step_changes(old, new) -> list[str]:
    changes = []
    if old.bpmn_name != new.bpmn_name:
        changes.append("name")
    if (old.documentation or "") != (new.documentation or ""):
        changes.append("documentation")
    if forms.describe(getattr(old, "form", None)) != forms.describe(getattr(new, "form", None)):
        changes.append("form")
    if any(_ext(old, k) != _ext(new, k) for k in ("camunda:candidateGroups", "camunda:candidateUsers")):
        changes.append("candidates")
    if getattr(old, "lane", None) != getattr(new, "lane", None):
        changes.append("lane")
    if _ext(old, "camunda:dueDate") != _ext(new, "camunda:dueDate"):
        changes.append("due")
    if _timer(old) != _timer(new):  # a timer already waiting keeps its moment: said, not applied
        changes.append("timer")
    return changes


def _new_properties(source, target) -> dict:
    old = json.loads(source.start_config or "{}").get("properties", {})
    new = json.loads(target.start_config or "{}").get("properties", {})
    return {name: setting(value) for name, value in new.items() if name not in old}  # as start does


def _check_start_form(move: Move, variables: dict) -> None:
    """Refuse where the target's start form requires a field the plan was started without: the
    steps and conditions of the target may read it, and nothing would ever give it a value."""
    for f in json.loads(move.target.start_config or "{}").get("start_form", []):
        if "required" in f["constraints"] and f["id"] not in variables:
            move.refusals.append(
                f"第 {move.target.version} 版的发起表单新增必填项 {f['id']}「{f['label']}」，本方案发起时没有填写，"
                "迁移后用到它的环节将无法办理，不能迁移：请在新版本中不设为必填（其后的条件允许其为空），"
                f"或终止本方案后按新版本重新发起 (version {move.target.version}'s start form requires "
                f"{f['id']}, which the plan was started without; the steps reading it could not be done: "
                "make it optional in the new version, its later conditions allowing it empty, or stop the plan "
                "and start it again on the new version)")


def preview(ctx, move: Move) -> dict:
    """What a person reads before moving the plan: versions, the open steps, the changes ahead,
    the called processes bound, the properties added, and why it may not move, if it may not."""
    changes = _compared(move, move.source, move.target, move.source.key)
    open_ids = {s["element_id"] for s in move.steps}
    # a step the target adds where the plan has already been: it will not do it (only said)
    behind = [c for c in changes if c["change"] == "added" and c["element_type"] in _STEPS
              and c["element_id"] in move.behind]
    passed = set(ctx.session.execute(select(HumanTask.element_id).where(
        HumanTask.instance_id == move.plan.id, HumanTask.status == "completed")).scalars())
    bound = list(move.old_called.values())
    ids = (move.definitions.versions_of(ctx.session, bound) if move.definitions else _versions_of(ctx.session, bound)) \
        if bound else {}
    keys = sorted(set(move.old_called) | set(move.called))
    called = [{"key": k, "from_version": ids.get(move.old_called.get(k)),
               "to_version": move.called[k].version if k in move.called else None,
               "moves": k in move.moving, "steps": [s for s in move.steps if s["called"] == k],
               "changes": _called_changes(ctx, move, k) if k in move.moving else []} for k in keys]
    return {
        "instance_id": move.plan.id, "key": move.source.key, "name": move.target.name,
        "own_moves": move.target.id != move.source.id, "called_moves": sorted(move.moving),
        "from_version": move.source.version, "to_version": move.target.version,
        "expected_version": move.plan.version,
        "called_versions": bound_versions(move),
        "steps": move.steps,
        "ahead": [c for c in changes if c["element_id"] not in open_ids and c["element_id"] not in passed
                  and c not in behind],
        "behind": behind,
        "passed": [c for c in changes if c["element_id"] in passed and c["element_id"] not in open_ids],
        "called": called, "properties_added": move.properties_added,
        "refusals": move.refusals, "allowed": not move.refusals,
    }


# the elements a plan does (a step of its own): an added one behind the plan is skipped by it
_STEPS = {"userTask", "manualTask", "task", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
          "receiveTask", "callActivity", "subProcess", "transaction"}


def _called_changes(ctx, move: Move, key: str) -> list[dict]:
    return _compared(move, ctx.session.get(ProcessDefinition, move.old_called[key]), move.called[key], key)


def _compared(move: Move, old: ProcessDefinition, new: ProcessDefinition, key: str) -> list[dict]:
    return move.definitions.changes(old, new, key) if move.definitions else _changes(old, new, key)


def _changes(old: ProcessDefinition, new: ProcessDefinition, key: str) -> list[dict]:
    """What changed from one version of `key` to the other (engine/diagram_changes.py)."""
    return diagram_changes.compare(old.bpmn_xml, new.bpmn_xml, key, old_file=f"{key} v{old.version}",
                                   new_file=f"{key} v{new.version}")["changes"]


def _versions_of(session, ids) -> dict[int, int]:
    return dict(session.execute(select(ProcessDefinition.id, ProcessDefinition.version).where(
        ProcessDefinition.id.in_(list(ids)))).all())


def moved_calls(ctx, move: Move) -> dict[str, dict]:
    """key -> {"from": version, "to": version} of each running called process that moves."""
    return {k: {"from": ctx.session.get(ProcessDefinition, move.old_called[k]).version, "to": move.called[k].version}
            for k in sorted(move.moving)}


def refusal(move: Move) -> Invalid:
    return Invalid("；".join(move.refusals) + "。未做任何更改 (nothing was changed)")


def apply(ctx, move: Move, workflow, specs: dict) -> None:
    """Give the workflow the target's specs; an open step keeps what it was given when reached."""
    kept = {}
    for owner in specs["targets"]:
        for task in owner.tasks.values():
            if task.state & (TaskState.READY | TaskState.WAITING):
                kept[task.id] = (deepcopy(task.data), deepcopy(task.internal_data))
    for task in move.pruned:
        _prune(task)
    if workflow in specs["targets"]:
        top_diff, _ = diff_workflow(_SpecRegistry(), workflow, specs["spec"], {})
        migrate_workflow(_by_id(top_diff, workflow, specs["spec"]), workflow, specs["spec"])
    for sub in list(workflow.subprocesses.values()):
        new_spec = specs["targets"].get(sub)
        if new_spec is not None:
            diff = WorkflowDiff(sub, SpecDiff(_SpecRegistry(), sub.spec, new_spec))
            migrate_workflow(_by_id(diff, sub, new_spec), sub, new_spec)
    workflow.subprocess_specs = specs["subprocess_specs"]
    for owner in specs["targets"]:
        for task in owner.tasks.values():
            if task.id in kept and task.state & (TaskState.READY | TaskState.WAITING):
                task.data, task.internal_data = kept[task.id]
                if task.id in move.timers:  # its rule changed: counted again (_recount_timer)
                    task._set_internal_data(event_value=move.timers[task.id]["new"])
            if move.properties_added and task.state & OPEN:
                for name, value in move.properties_added.items():
                    task.data.setdefault(name, value)


class _SpecRegistry:
    """The spec serializer's registry as SpecDiff compares two task specs with it: a multi-instance
    spec's class is engine/scripting.py's subclass (mark_timers), which the registry does not know
    by name: it is converted as the SpiffWorkflow class it extends."""

    def convert(self, obj):
        registry = SPEC_SERIALIZER.registry
        for cls in type(obj).__mro__:
            if cls in registry.typenames:
                return registry.convert_to_dict[registry.typenames[cls]](obj)
        return registry.convert(obj)


def _by_id(diff, owner, new_spec):
    """SpiffWorkflow also matches a task to an element of another id by its place in the flow; a
    plan here moves only to the element of the same id (the others were refused or pruned)."""
    diff.alignment = {task: new_spec.task_specs.get(task.task_spec.name) for task in owner.tasks.values()}
    return diff


def _prune(task) -> None:
    """Take a never-reached (predicted) or cancelled task of a removed element out of the tree,
    with what hangs below it."""
    owner = task.workflow
    for gone in list(task):
        owner.tasks.pop(gone.id, None)
        if isinstance(gone.task_spec, SubWorkflowTask):
            owner.top_workflow.subprocesses.pop(gone.id, None)
    if task.parent is not None:
        task.parent._children.remove(task.id)


def refresh_rows(ctx, move: Move, workflow) -> list[dict]:
    """The kept inbox rows take the target's name, instructions, form and candidates (holder,
    claim, deadline, drafts stay); each changed row's version moves on. Returns the steps kept."""
    conn = ctx.session.connection()
    rows = conn.execute(select(HumanTask.__table__).where(
        HumanTask.instance_id == move.plan.id, is_open(HumanTask.status))).all()
    survey = runtime.Survey(workflow, set())
    ready = {str(t.id): t for t in survey.ready_user_tasks}
    kept = []
    for row in rows:
        task = ready.get(row.spiff_task_id)
        if task is None:
            continue
        try:
            fresh, candidates = runtime._task_row(ctx, move.plan, task, survey)
        except (ExpressionError, TimerValueError) as exc:  # the target's candidates expression failing
            raise runtime.engine_error(runtime._with_task(exc, task)) from None
        new = {k: fresh[k] for k in ("name", "documentation", "form_json", "lane", "candidate_groups", "candidate_users")}
        changed = {k: v for k, v in new.items() if getattr(row, k) != v}
        step = next((s for s in move.steps if s["task_id"] == row.id), {"changes": []})
        kept.append({"task_id": row.id, "element_id": row.element_id, "name": new["name"],
                     "old_name": row.name, "changes": step["changes"]})
        if not changed:
            continue
        conn.execute(update(HumanTask.__table__).where(HumanTask.id == row.id).values(
            **changed, version=HumanTask.__table__.c.version + 1))
        if "candidate_groups" in changed or "candidate_users" in changed:
            conn.execute(TaskCandidate.__table__.delete().where(TaskCandidate.task_id == row.id))
            if candidates:
                conn.execute(TaskCandidate.__table__.insert(), [{"task_id": row.id, **c} for c in candidates])
    return kept


def repoint(ctx, move: Move) -> None:
    """The plan's row names the target version and the called versions bound now."""
    ctx.session.connection().execute(update(ProcessInstance.__table__).where(
        ProcessInstance.id == move.plan.id).values(
        definition_id=move.target.id,
        subprocess_definitions=json.dumps({k: d.id for k, d in move.called.items()})))
    move.plan.definition_id = move.target.id
    move.plan.subprocess_definitions = json.dumps({k: d.id for k, d in move.called.items()})


def bound_versions(move: Move) -> dict[str, int]:
    """key -> the version of each called process the plan is bound to after the move."""
    return {k: d.version for k, d in sorted(move.called.items())}


def _check_as_previewed(move: Move, expected_called: dict[str, int] | None) -> None:
    """A version deployed since the preview would bind (or move a running called process to) a
    version the preview did not show: a conflict, as a plan acted on meanwhile is."""
    if expected_called is None or bound_versions(move) == expected_called:
        return
    now = bound_versions(move)
    differ = "、".join(f"{k} 第 {now[k]} 版" for k in sorted(now) if now[k] != expected_called.get(k)) or "-"
    raise Conflict(f"方案 {move.plan.id} 在您预览之后又部署了被调用流程的新版本（现为 {differ}），未做任何更改，"
                   f"请刷新后重新预览 (a called process has a new version since you previewed the move: "
                   "nothing was changed; reload and preview again)", reason="stale")


def migrate(ctx, plan: runtime.Plan, to_version: int | None, reason: str, latest,
            expected_called: dict[str, int] | None = None) -> dict:
    """Move the locked, running `plan` (Engine.migrate_plan): refused as a whole, or done whole.
    `expected_called`: the called versions the preview showed (`called_versions`)."""
    workflow = runtime.load(ctx, plan)
    move, specs = prepare(ctx, plan, workflow, to_version, latest)
    _check_as_previewed(move, expected_called)
    if move.refusals:
        raise refusal(move)
    # recorded first: the steps this move opens (a new step ahead already due) follow it in the trail
    ctx.log.record("instance_migrated", instance_id=plan.id, reason=reason, key=move.source.key,
                   old={"version": move.source.version}, new={"version": move.target.version},
                   steps=[{k: s[k] for k in ("task_id", "element_id", "name", "new_name", "changes")}
                          for s in move.steps],
                   called_versions={k: d.version for k, d in move.called.items()},
                   called_moved=moved_calls(ctx, move), properties_added=move.properties_added)
    _record_recounts(ctx, move)  # before the run: its inbox sync then finds each new rule's basis in place
    runtime.run(ctx, plan, workflow, lambda wf: apply(ctx, move, wf, specs))
    kept = refresh_rows(ctx, move, workflow)
    repoint(ctx, move)
    return {"from_version": move.source.version, "to_version": move.target.version, "steps": kept,
            "called_versions": {k: d.version for k, d in move.called.items()},
            "called_moved": moved_calls(ctx, move), "properties_added": move.properties_added}


def _record_recounts(ctx, move: Move) -> None:
    """The deadlines and timer moments counted again under the target's changed rules: the inbox
    rows take theirs (with the new rule's basis, so runtime follows the new rule's variables from
    now on) and the trail says each that moved, reason "migration". A correction, like a calendar
    recount: `first_due_at`, which only runtime._follow_due_date sets for a deadline ordered after
    one was missed, is left alone (engine/judged_due.py)."""
    conn = ctx.session.connection()
    for due in move.due_dates:
        conn.execute(recount.SET_DUE, {"task_id": due["task_id"], "due_at": due["new"], "due_basis": due["basis"]})
        if due["new"] != due["old"]:
            ctx.log.record("task_due_changed", instance_id=move.plan.id, task_id=due["task_id"],
                           element_id=due["element_id"], name=due["name"], reason="migration",
                           old={"due_at": iso(due["old"])}, new={"due_at": iso(due["new"])})
    for timer in move.timers.values():
        if datetime.fromisoformat(timer["new"]) != datetime.fromisoformat(timer["old"]):
            ctx.log.record("timer_moved", instance_id=move.plan.id, task_id=timer["task_id"],
                           element_id=timer["element_id"], name=timer["name"], reason="migration",
                           old={"due": timer["old"]}, new={"due": timer["new"]})


def newer_version(session, plan_id: int) -> int | None:
    """The latest version of a running plan's process when it is newer than the plan's (the
    plan's page offers the reform office 迁移到新版本 then), else None."""
    current = ProcessDefinition.__table__.alias("current")
    latest = session.execute(
        select(func.max(ProcessDefinition.version))
        .select_from(ProcessInstance)
        .join(current, current.c.id == ProcessInstance.definition_id)
        .join(ProcessDefinition, ProcessDefinition.key == current.c.key)
        .where(ProcessInstance.id == plan_id, ProcessInstance.status == "running",
               ProcessDefinition.version > current.c.version)).scalar()
    return latest


def newer_called(session, plan_id: int) -> list[dict]:
    """The called processes a running plan has an open step in whose latest deployed version is
    newer than the one it bound: [{"key", "version" (bound), "latest"}] (the plan's page offers
    迁移到新版本 for them too)."""
    plan = session.get(ProcessInstance, plan_id)
    if plan is None or plan.status != "running":
        return []
    open_in = set(session.execute(select(HumanTask.process_key).where(
        HumanTask.instance_id == plan_id, is_open(HumanTask.status))).scalars())
    newer = []
    for key, definition_id in sorted(json.loads(plan.subprocess_definitions or "{}").items()):
        bound = session.get(ProcessDefinition, definition_id)
        latest = session.execute(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)).scalar()
        if latest > bound.version and open_in & process_names(bound):
            newer.append({"key": key, "version": bound.version, "latest": latest})
    return newer


def process_names(definition: ProcessDefinition) -> set[str]:
    """The names an open step's row gives as its process (HumanTask.process_key) while inside this
    definition: its key, and the ids of its embedded subprocesses."""
    root = parse_bpmn_bytes(definition.bpmn_xml.encode("utf-8"), definition.file_name).getroot()
    return {definition.key, *root.xpath(".//bpmn:subProcess/@id | .//bpmn:transaction/@id", namespaces=NS)}


def candidates(session, key: str, target: ProcessDefinition, from_version: int | None, latest: ProcessDefinition):
    """(plan id, via a called process?) of the running plans a move of `key` to `target` concerns,
    oldest plan first: those on an older version of `key` (or on `from_version`); moving to the
    latest, also those with an open step inside a called `key` bound to an older version."""
    plans, own = ProcessInstance.__table__, ProcessDefinition.__table__
    query = (select(plans.c.id).join(own, own.c.id == plans.c.definition_id)
             .where(plans.c.status == "running", own.c.key == key, own.c.version < target.version))
    if from_version is not None:
        query = query.where(own.c.version == from_version)
    found = [(plan_id, False) for plan_id in session.execute(query.order_by(plans.c.id)).scalars()]
    if target.id != latest.id:
        return found  # a called process moves to its latest version only
    older = session.execute(select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.version < target.version)).scalars().all()
    names = set().union(*(process_names(d) for d in older)) if older else set()
    versions = {d.id: d.version for d in older}
    # an open step inside the called process (or one of its embedded subprocesses) tells a plan inside it
    inside = select(HumanTask.instance_id).where(HumanTask.process_key.in_(names), is_open(HumanTask.status)).distinct()
    rows = session.execute(select(plans.c.id, plans.c.subprocess_definitions).join(own, own.c.id == plans.c.definition_id)
                           .where(plans.c.status == "running", own.c.key != key, plans.c.id.in_(inside))
                           .order_by(plans.c.id)).all()
    for plan_id, bound in rows:
        version = versions.get(json.loads(bound or "{}").get(key))
        if version is not None and from_version in (None, version):
            found.append((plan_id, True))
    return found


def plan_line(session, plan_id: int) -> dict:
    """What a list of plans names each by: id, business key, title, its process and version."""
    return plan_lines(session, [plan_id])[plan_id]


def plan_lines(session, plan_ids: list[int]) -> dict[int, dict]:
    """plan id -> its plan_line, for many plans in one query."""
    lines = {}
    for start in range(0, len(plan_ids), 500):  # within any database's limit of parameters
        for row in session.execute(select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.title,
                                          ProcessDefinition.key, ProcessDefinition.version)
                                   .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                                   .where(ProcessInstance.id.in_(plan_ids[start:start + 500]))):
            lines[row.id] = {"instance_id": row.id, "business_key": row.business_key, "title": row.title,
                             "definition_key": row.key, "definition_version": row.version}
    return lines


def behind(session) -> dict[str, int]:
    """key -> how many running plans still run an older version of it (their own process, or a
    called process they are inside): the 流程定义 page tells the reform office."""
    counts = {}
    keys = session.execute(select(ProcessDefinition.key).group_by(ProcessDefinition.key)
                           .having(func.count() > 1)).scalars().all()
    for key in keys:
        latest = session.execute(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                 .order_by(ProcessDefinition.version.desc()).limit(1)).scalar_one()
        if found := candidates(session, key, latest, None, latest):
            counts[key] = len(found)
    return counts
