"""The machinery every command shares: load a plan's workflow, run it, bring the inbox rows in
line with its ready user tasks, record what happened, and save it back.

Nothing here commits: the command that calls it owns the one transaction.
"""
from __future__ import annotations

import json
import re
import threading
from collections import ChainMap, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.process import OPEN_STATUSES, is_open  # noqa: F401 - used by commands, queries, cli
from models import (CalendarOverride, Group, HumanTask, InstanceTask, ProcessDefinition, ProcessInstance,
                    TaskCandidate, Unit, User)
from models.base import INTEGER_MAX
from models.identity import memberships

from . import bound_sources, forms
from .audit import AuditLog, ChainTip
from .channels import Channel
from .deadlines import TimerValueError
from .errors import BilingualValueError, Invalid
from .parser import diagram_name
from .expressions import (EvaluationError, ExpressionError, UndefinedVariable, compile_expression,
                          is_wrapped, work_budget)
from .scripting import FUNCTION_NAMES, SafeEnvironment, script_engine
from .state import dump_changes, load_state, restore_specs
from .reminders import remind
from .walk import engine_steps, every_task, tree_tasks
from .workdays import WorkCalendar


_CALENDAR = select(CalendarOverride.__table__.c.day, CalendarOverride.__table__.c.is_working_day)
_CALENDAR_LOCK = 0x7266_6361  # "rfca": PostgreSQL advisory lock key of the working-day calendar


def lock_calendar(conn, *, shared: bool) -> None:
    """PostgreSQL: a command that counts working days holds the calendar shared until it
    commits, and `calendar set` holds it alone. So a day entered while a plan is counting its
    deadline waits for that plan to be saved, and the recount that follows sees it; a plan
    counting after the entry waits for it and reads the new day. (SQLite runs one writer at a
    time already.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:key)" if shared
                          else "SELECT pg_advisory_xact_lock(:key)"), {"key": _CALENDAR_LOCK})


@dataclass
class Context:
    """What one command carries around: its session, actor, clock reading and audit log."""
    session: Session
    actor: str
    now: datetime
    log: AuditLog = field(init=False)
    workflows: "WorkflowCache | None" = None  # the engine's cache of loaded workflows
    specs: OrderedDict = field(default_factory=OrderedDict)  # the engine's cache of restored specs
    after_commit: list = field(default_factory=list)  # callbacks run once the commit succeeded
    audit_tip: ChainTip | None = None  # the engine's last append, tried first (audit.ChainTip)
    # whether anyone has an email address, as the inbox rows' INSERT found (None: not asked): when
    # nobody has, engine/mail.py need not look for whom to mail about the new steps
    anyone_mailed: bool | None = None
    channel: "Channel | None" = None  # how the actor acts (engine/channels.py), on each of its events
    # the inbox rows (ids) an escalation caught in this command opened: the overdue path's steps,
    # mailed as 逾期 (engine/mail.py), not the other steps the same command opened in the plan
    opened_by_escalation: set = field(default_factory=set)

    def __post_init__(self):
        self.log = AuditLog(self.actor, self.now, tip=self.audit_tip, channel=self.channel)

    @cached_property
    def calendar(self) -> WorkCalendar:
        conn = self.session.connection()
        lock_calendar(conn, shared=True)
        return calendar_of(conn)

    @cached_property
    def script_engine(self):
        return script_engine(lambda: self.calendar)  # read on first use only

    @property
    def environment(self) -> SafeEnvironment:
        return self.script_engine.environment


def calendar_of(conn) -> WorkCalendar:
    """The working-day calendar with the days entered in it (a read needs no lock: it sees one
    snapshot of the entered days)."""
    return WorkCalendar(dict(conn.execute(_CALENDAR).all()))


_PLANS = ProcessInstance.__table__


@dataclass
class Plan:
    """The columns of a plan's row a command works with, read by one Core SELECT that also
    locks it. Not an ORM object: loading one (and flushing it back) cost more than the SQL."""
    id: int
    version: int
    definition_id: int
    subprocess_definitions: str
    status: str
    next_timer_at: datetime | None = None

    COLUMNS = (_PLANS.c.id, _PLANS.c.version, _PLANS.c.definition_id,
               _PLANS.c.subprocess_definitions, _PLANS.c.status, _PLANS.c.next_timer_at)

    @classmethod
    def from_row(cls, row) -> "Plan":
        return cls(row.id, row.version, row.definition_id, row.subprocess_definitions,
                   row.status, row.next_timer_at)


_PLAN_ROW = select(*Plan.COLUMNS).where(_PLANS.c.id == bindparam("instance_id"))
_LOCK_PLAN = _PLAN_ROW.with_for_update()
_LOCK_PLAN_OR_SKIP = _PLAN_ROW.with_for_update(skip_locked=True)


def read_plan(ctx: "Context", instance_id: int) -> Plan | None:
    """The plan's row, not locked: for a read that loads its workflow (a task's page)."""
    row = ctx.session.connection().execute(_PLAN_ROW, {"instance_id": instance_id}).one_or_none()
    return None if row is None else Plan.from_row(row)


def lock_plan(ctx: "Context", instance_id: int, *, skip_locked: bool = False) -> Plan | None:
    """The plan's row, locked for this transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE has
    already serialised writers); None if there is no such plan, or it is locked and
    `skip_locked` asked not to wait."""
    row = ctx.session.connection().execute(_LOCK_PLAN_OR_SKIP if skip_locked else _LOCK_PLAN,
                                           {"instance_id": instance_id}).one_or_none()
    return None if row is None else Plan.from_row(row)


def _spec_json(session: Session, definition_id: int):
    return lambda: session.execute(select(ProcessDefinition.spec_json)
                                   .where(ProcessDefinition.id == definition_id)).scalar_one()


def specs_for(ctx: Context, definition_id: int, subprocess_ids: dict[str, int]):
    """The main spec and every subprocess spec (embedded and called) an instance runs on."""
    session = ctx.session
    spec, embedded = restore_specs(ctx.specs, definition_id, _spec_json(session, definition_id))
    subprocess_specs = dict(embedded)
    for key, called_id in subprocess_ids.items():
        called_spec, called_embedded = restore_specs(ctx.specs, called_id, _spec_json(session, called_id))
        subprocess_specs[key] = called_spec
        subprocess_specs.update(called_embedded)
    return spec, subprocess_specs


class WorkflowCache:
    """Workflows as the last committed command in this process left them, keyed by plan id and
    the plan row's version. A command takes its plan's entry out; only a successful commit puts
    it back, with the new version. Another worker's change bumps the version in the database,
    so a stale entry is never used: the state is then read from its rows.

    Bounded twice, the least recently used going first: at most `size` plans, and at most
    `tasks` workflow tasks in all (a plan's own and its subprocesses'), which is what a plan's
    memory grows with: ~12 KB a task with the copies kept for the next save (engine/state.py),
    1.7 MB for a reform plan of two years (docs/performance.md). 256 plans held ~450 MB in
    each web worker; 64 plans or 8,000 tasks hold at most ~100 MB."""

    def __init__(self, size: int = 64, tasks: int = 8000):
        self.size, self.tasks = size, tasks
        self._entries: OrderedDict[int, tuple[int, BpmnWorkflow, int]] = OrderedDict()
        self._held = 0  # tasks of the workflows held
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None:
                self._held -= entry[2]
        return entry[1] if entry and entry[0] == version else None

    def holds(self, instance_id: int) -> bool:
        with self._lock:
            return instance_id in self._entries

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        weight = task_count(workflow)
        with self._lock:
            old = self._entries.pop(instance_id, None)
            if old is not None:
                self._held -= old[2]
            if weight > self.tasks:
                return  # bigger than the whole cache: read from its rows each time
            self._entries[instance_id] = (version, workflow, weight)
            self._held += weight
            while len(self._entries) > self.size or self._held > self.tasks:
                self._held -= self._entries.popitem(last=False)[1][2]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held_tasks(self) -> int:
        return self._held


def task_count(workflow: BpmnWorkflow) -> int:
    """The tasks of a workflow and of its subprocesses: what its memory grows with."""
    return len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())


_STATE = select(_PLANS.c.state_json).where(_PLANS.c.id == bindparam("instance_id"))
_WORKFLOW_TASKS = InstanceTask.__table__
_STATE_TASKS = select(_WORKFLOW_TASKS.c.task_id, _WORKFLOW_TASKS.c.workflow, _WORKFLOW_TASKS.c.position,
                      _WORKFLOW_TASKS.c.body).where(
    _WORKFLOW_TASKS.c.instance_id == bindparam("instance_id")).order_by(_WORKFLOW_TASKS.c.position)


def load(ctx: Context, instance: Plan, *, cache: bool = True) -> BpmnWorkflow:
    """The plan's workflow, from the engine's cache if it holds this version, else from its rows.
    Kept in the cache after the commit; `cache` False: only if it came from there (a pass of the
    timers through a backlog of plans nobody is working on must not push out those people are)."""
    workflow = ctx.workflows.take(instance.id, instance.version) if ctx.workflows else None
    if workflow is not None:
        workflow.script_engine = ctx.script_engine
    else:
        spec, subprocess_specs = specs_for(ctx, instance.definition_id,
                                           json.loads(instance.subprocess_definitions))
        conn = ctx.session.connection()
        header = conn.execute(_STATE, {"instance_id": instance.id}).scalar_one()
        rows = conn.execute(_STATE_TASKS, {"instance_id": instance.id}).all()
        workflow = load_state(header, rows, spec, subprocess_specs, ctx.script_engine)
        if not cache:
            return workflow
    remember(ctx, instance, workflow)
    return workflow


def remember(ctx: Context, instance: Plan, workflow: BpmnWorkflow) -> None:
    """Keep the workflow for the next command on this plan, once this one has committed."""
    if ctx.workflows is not None:
        ctx.after_commit.append(lambda: ctx.workflows.put(instance.id, instance.version, workflow))


def engine_error(exc: Exception) -> Invalid:
    """A diagram failed while running: refuse the action, say where and why."""
    task, task_spec = getattr(exc, "task", None), getattr(exc, "task_spec", None)
    if task is not None:
        where = element_where(task.workflow.spec, task.task_spec)
    elif getattr(task_spec, "_wf_spec", None) is not None:  # e.g. a gateway none of whose conditions held
        where = element_where(task_spec._wf_spec, task_spec)
    else:
        where = ""
    inner = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    if isinstance(exc, SpiffWorkflowException) and isinstance(inner, (ExpressionError, TimerValueError)):
        # SpiffWorkflow wraps our error as "Error evaluating expression '…'" and keeps it only as
        # the context: the reason, the expression and its values are there
        exc = inner
    if isinstance(exc, (ExpressionError, TimerValueError)):
        return Invalid(f"{where}{_expression_reason(exc)}")
    cause = getattr(exc, "exception", None) or exc.__cause__ or exc
    reason = str(cause).split("\n")[0].rstrip(". ")
    if held := _ELEMENT_VARIABLE_HELD.fullmatch(reason):
        # a calling process (checked in another file) or a message set the instances' variable
        return Invalid(f"{where}多实例活动给每个实例的变量 {held[1]} 在进入此活动前已有值（由调用方流程或消息设置），"
                       f"未做任何更改，请在流程图中为 camunda:elementVariable 另取一个名字 (the variable {held[1]} that "
                       "the multi-instance activity gives each instance already has a value (set by a calling "
                       "process or a message). Nothing was changed; give camunda:elementVariable another name.)")
    # the reason is SpiffWorkflow's, in English only: the Chinese half carries it too, or a page
    # in Chinese said only that something went wrong
    return Invalid(f"{where}流程运行出错（{reason}），未做任何更改，请更正数据或流程图后重试 ({reason}. Nothing was "
                   f"changed; correct the data or the diagram and try again.)")


_ELEMENT_VARIABLE_HELD = re.compile(r"Multiinstance input item (\w+) already exists")


def element_where(spec, task_spec) -> str:
    """How a refusal names where in which diagram it failed. A multi-instance activity's own spec
    has no name: its instances' spec (`task_spec`, by name) has the diagram's."""
    name = task_spec.bpmn_name
    if not name and isinstance(task_spec, MultiInstanceTask):
        inner = spec.task_specs.get(task_spec.task_spec)
        name = getattr(inner, "bpmn_name", None)
    return f"{diagram_name(spec)}: element {task_spec.bpmn_id} ({name or ''}): "


def start_event(spec):
    """The process's none start event, which carries the start form."""
    starts = spec.start.outputs
    return next((t for t in starts if isinstance(getattr(t, "event_definition", None), NoneEventDefinition)),
                starts[0])


def form_limit(ctx: Context, variables, task=None, *, spec=None, element=None, plan_id: int | None = None):
    """For forms.validate: a form constraint's ${...} evaluated over the submitted values and the
    plan's `variables` (what previous(name) reads: `before`, else `variables`); failing, or giving
    what is no bound, it refuses the action naming the diagram and element: the user task `task`,
    or the start event `element` of `spec`. `recorded_by(name, value)`: the step of plan `plan_id`
    that recorded a bound previous() read, for the refusal to name it."""
    def limit(text: str, values: dict, before=None):
        try:
            return ctx.environment.bound(text, values, variables if before is None else before)
        except (ExpressionError, TimerValueError) as exc:
            raise Invalid(f"{limit.where}{_expression_reason(exc)}") from None
    limit.where = element_where(task.workflow.spec, task.task_spec) if task is not None else \
        element_where(spec, element) if element is not None else ""
    limit.before = variables
    limit.recorded_by = (lambda name, value: bound_sources.recorded_by(ctx.session, plan_id, name, value)) \
        if plan_id is not None else None
    return limit


def _expression_reason(exc: Exception) -> str:
    """What went wrong in an expression, for people: the variable that has no value, or the
    values it was given when one of them was out of range (engine.scripting._explained)."""
    missing = exc if isinstance(exc, UndefinedVariable) else exc.__cause__
    values = "，".join(f"{k} = {_short(v)}" for k, v in getattr(exc, "values", {}).items())
    shown = "；".join(part for part in (f"表达式 {exc.expression}" if getattr(exc, "expression", None) else "",
                                       f"其中 {values}" if values else "") if part)
    # ExpressionError and TimerValueError keep their Chinese and English parts apart
    detail, en = (exc.zh, exc.en) if isinstance(exc, BilingualValueError) else (None, str(exc))
    zh = f"变量 {missing.name} 没有值" if isinstance(missing, UndefinedVariable) else \
        "值无效或超出范围" + (f"：{detail}" if detail and detail != en else "")
    if isinstance(missing, UndefinedVariable):
        # whoever meets it is rarely who can mend it: a value no form of theirs sets is the
        # diagram's fault, and a plan on that version stays stuck until the office acts
        return (f"{zh}{f'（{shown}）' if shown else ''}，未做任何更改：若此值应由您填写，请补上后重试；否则是流程图的问题，"
                f"请告知改革办 ({en.splitlines()[0]}. Nothing was changed: if the value is yours to enter, enter it "
                "and try again; otherwise the diagram is at fault: tell the reform office.)")
    return (f"{zh}{f'（{shown}）' if shown else ''}，未做任何更改，请更正数据或流程图后重试 "
            f"({en.splitlines()[0]}. Nothing was changed; correct the data or the diagram and try again.)")


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


@dataclass
class Snapshot:
    """What a command needs to know of the workflow from before it ran: the finished tasks, and
    each waiting cycle timer's count (SpiffWorkflow's event value: occurrences left, the next
    one, the period)."""
    finished: set[UUID]
    cycles: dict[UUID, dict]


def _snapshot(workflow: BpmnWorkflow) -> Snapshot:
    finished, cycles = set(), {}
    for task in every_task(workflow):
        if task.state & TaskState.FINISHED_MASK:
            finished.add(task.id)
        elif isinstance(getattr(task.task_spec, "event_definition", None), CycleTimerEventDefinition):
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):
                cycles[task.id] = dict(value)
    return Snapshot(finished, cycles)


def run(ctx: Context, instance: Plan, workflow: BpmnWorkflow, action) -> None:
    """Do `action(workflow)`, run the engine on, then record and save the outcome. Every script,
    condition, due date and timer evaluated meanwhile spends from one work budget
    (expressions.MAX_WORK): a script -> gateway -> script loop got a fresh one each pass, and a
    script of 520 working-day counts held the database for 278 s."""
    with work_budget():
        _run(ctx, instance, workflow, action)


def _run(ctx: Context, instance: Plan, workflow: BpmnWorkflow, action) -> None:
    before = _snapshot(workflow)
    try:
        action(workflow)
        settle(workflow)
    except (SpiffWorkflowException, ExpressionError, TimerValueError) as exc:
        raise engine_error(exc) from None
    except RecursionError:
        # a path that forks again and again without a user task (a parallel split whose branches
        # lead back before it) grows the task tree until a walk up it (engine/joins.py) runs out of
        # stack; most such diagrams are stopped first by walk.MAX_AUTOMATIC_STEPS
        raise Invalid(f"{diagram_name(workflow.spec)}: 流程不断分出新的路径而不停在用户任务上"
                      "（并行网关的分支是否又回到它之前？），未做任何更改，请修改流程图 (the process keeps forking "
                      "new paths without stopping at a user task (does a parallel split's branch lead back before "
                      "it?). Nothing was changed; correct the diagram.)") from None
    survey = Survey(workflow, before.finished)
    for holder in survey.new_holders:
        holder._set_internal_data(**{STARTED_AT: ctx.now.isoformat()})
    fired = (_record_cycles(ctx, instance, workflow, before.cycles)
             + _record_events(ctx, instance, survey))
    survey.timers_fired = bool(fired)
    sync_tasks(ctx, instance, survey)
    # after the inbox sync: a reminder already due when its task opens fires in this same action
    remind(ctx, instance.id, workflow, fired)
    save(ctx, instance, workflow, survey)


# Where a subprocess or call activity keeps when it started by the engine's clock (SpiffWorkflow's
# own last_state_change is the computer's clock, wrong under --now): the working-day timers on
# it are counted again from then (engine/recount.py).
STARTED_AT = "reformflow_started_at"


class Survey:
    """One walk over the task tree after the engine ran, collecting what the command needs."""

    def __init__(self, workflow: BpmnWorkflow, before: set):
        self.newly_completed, self.ready_user_tasks, self.ends = [], [], []
        self.workflow, self.before = workflow, before  # and the tasks finished before the command
        # whether a timer fired in the command, and whether each escalation thrown in it was on a
        # timer's path (the system's): set by _run, for who opened the new steps (`set_off`)
        self.timers_fired, self.escalations_by_timer = False, []
        self.new_holders = []  # subprocesses and call activities started by this command
        self._with_data = []  # tasks whose data may hold a change, in tree order
        for task in tree_tasks(workflow):
            state = task.state
            if state == TaskState.COMPLETED:
                if task.id not in before:
                    self.newly_completed.append(task)
                if task.workflow is workflow and isinstance(task.task_spec, EndEvent):
                    self.ends.append(task)
            elif state == TaskState.READY and task.task_spec.manual:
                self.ready_user_tasks.append(task)
            elif (state == TaskState.STARTED and isinstance(task.task_spec, SubWorkflowTask)
                  and STARTED_AT not in task.internal_data):
                self.new_holders.append(task)
            if state & _LIVE_OR_DONE and task.data:
                self._with_data.append(task)

    @cached_property
    def variables(self) -> dict:
        """The plan's current variables (computed once per command).

        Parallel branches each carry their own copy of the data, so no single task holds them
        all (the last task to change knows nothing of what another branch entered). Replay what
        each task changed relative to the task before it, oldest change first; cancelled tasks
        changed nothing. A value inherited unchanged never overwrites another branch's newer one.
        """
        merged: dict = {}
        for task in sorted(self._with_data, key=lambda t: t.last_state_change):
            base = _inherited(task)
            data = task.data
            if data == base:
                continue  # inherited as it was: the common case, compared at C speed
            for key, value in data.items():
                if base.get(key, _MISSING) != value:
                    merged[key] = value
            for key in base:
                if key not in data:
                    merged.pop(key, None)
        return merged


def _inherited(task) -> dict:
    """The data a task started from: its parent's, or for the first task of a subprocess or
    called process, the data of the task that entered it (SpiffWorkflow copies it in)."""
    if task.parent is not None:
        return task.parent.data
    workflow = task.workflow
    if workflow.parent_task_id is not None:
        owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if owner is not None:
            return owner.data
    return {}


_LIVE_OR_DONE = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED
_MISSING = object()


MAX_SETTLE_ROUNDS = 100


def settle(workflow: BpmnWorkflow) -> None:
    """Run engine steps until only user tasks and future events wait.

    Engine steps (as SpiffWorkflow's do_engine_steps) refresh timers only at their end, so a
    timer already due when it is first reached (a deadline in the past) becomes ready without
    being run.
    """
    for _ in range(MAX_SETTLE_ROUNDS):
        engine_steps(workflow)
        ready = next((t for t in every_task(workflow) if t.state == TaskState.READY and not t.task_spec.manual), None)
        if ready is None:
            return
    raise Invalid(f"{element_where(ready.workflow.spec, ready.task_spec)}流程经过 {MAX_SETTLE_ROUNDS} 轮引擎步骤仍未停下，"
                  "可能有一个不经过用户任务或定时器的循环，未做任何更改，请修改流程图 (the process did not come to rest "
                  f"after {MAX_SETTLE_ROUNDS} rounds of engine steps (a loop without a user task or a timer?). Nothing "
                  "was changed; correct the diagram.)")


def _record_cycles(ctx: Context, instance: Plan, workflow: BpmnWorkflow, cycles: dict) -> list[tuple[dict, object]]:
    """A cycle timer stays waiting while it fires, so it never shows as a completed timer: one
    timer_fired per occurrence its count went down by, with the time that occurrence was due.
    Returns each occurrence's event with the timer task that fired (for `remind`)."""
    fired = []
    for task_id, before in cycles.items():
        task = workflow.get_task_from_id(task_id)
        after = task._get_internal_data("event_value") if task is not None else None
        if not isinstance(after, dict):
            continue  # cancelled with its activity, or done with all its occurrences earlier
        spec, first = task.task_spec, datetime.fromisoformat(before["next"])
        for n in range(before["cycles"] - after["cycles"]):
            due = first + timedelta(seconds=before["duration"] * n)
            ctx.log.record("timer_fired", instance_id=instance.id, element_id=spec.bpmn_id,
                           name=spec.bpmn_name, process=task.workflow.spec.name, due=due.isoformat(),
                           cycle=True, by_system=True, **_attached_to(task))
            fired.append((ctx.log.pending[-1][3], task))
    return fired


def _record_events(ctx: Context, instance: Plan, survey: "Survey") -> list[tuple[dict, object]]:
    """Timers fired and escalations thrown; returns each timer's event with its task (for `remind`).
    A timer is the system's whoever's command it fired in, and so is an escalation on its path."""
    fired = []
    for task in survey.newly_completed:
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if isinstance(spec, CatchingEvent) and isinstance(definition, TimerEventDefinition):
            ctx.log.record("timer_fired", instance_id=instance.id, element_id=spec.bpmn_id,
                           name=spec.bpmn_name, process=task.workflow.spec.name,
                           due=task._get_internal_data("event_value"), by_system=True, **_attached_to(task))
            fired.append((ctx.log.pending[-1][3], task))
        elif isinstance(spec, ThrowingEvent) and isinstance(definition, EscalationEventDefinition):
            by_timer = set_off(_previous(task), survey.before) == "timer"
            survey.escalations_by_timer.append(by_timer)
            ctx.log.record("escalation", instance_id=instance.id, element_id=spec.bpmn_id,
                           name=spec.bpmn_name, code=definition.code, process=task.workflow.spec.name,
                           by_system=by_timer, **_escalated_step(task))
    return fired


MAX_SET_OFF_PATH = 1000  # how far back a new task's path is followed to what set it off


def set_off(task, before: set) -> str | None:
    """What in this command set `task` off, if not the person acting: "timer" (a timer that fired
    now is on its path) or "escalation" (an escalation thrown or caught now is, the nearer of the
    two); None when its path goes back to a task finished before the command without either (the
    person's own action). Follows the path into the process that started a subprocess."""
    for _ in range(MAX_SET_OFF_PATH):
        if task is None or task.id in before:
            return None
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, EscalationEventDefinition):
            return "escalation"
        if isinstance(task.task_spec, CatchingEvent) and isinstance(definition, TimerEventDefinition):
            return "timer"
        task = _previous(task)
    return None


def _previous(task):
    """The task before `task` on its path: its parent, or what started its subprocess."""
    return task.parent if task.parent is not None else _owner(task.workflow)


def _owner(workflow):
    """The task that started a subprocess or called process (None for the plan's own process)."""
    if workflow.parent_task_id is None:
        return None
    try:
        return workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    except TaskNotFoundException:
        return None


def _cut_by_timer(task, before: set) -> bool:
    """Whether an interrupting boundary timer that fired now took `task` away: one on the task, or
    on the subprocess or call activity it is inside."""
    while task is not None:
        split = task.parent
        if split is not None and isinstance(split.task_spec, BoundaryEventSplit) and any(
                isinstance(c.task_spec, BoundaryEvent) and c.task_spec.cancel_activity and c.id not in before
                and c.state == TaskState.COMPLETED
                and isinstance(getattr(c.task_spec, "event_definition", None), TimerEventDefinition)
                for c in split.children):
            return True
        task = _owner(task.workflow)
    return False


def _attached_to(task) -> dict:
    """The step a boundary timer is on (its BoundaryEventSplit's other child), by element id and
    name, for the trail's reader: which step was overdue (QA auditor finding 14). From the workflow
    in memory, no statement; {} for a timer on no step (an intermediate or start timer)."""
    step = guarded_step(task.parent) if task.parent is not None else None
    if step is None:
        return {}
    return {"on_element_id": step.task_spec.bpmn_id, "on_name": step.task_spec.bpmn_name}


def guarded_step(split):
    """The step a BoundaryEventSplit task stands before (Task_FileDocument for
    Task_FileDocument.BoundaryEventSplit): its one child that is no boundary event. None when
    `split` is no such node."""
    if not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    return next((c for c in split.children if not isinstance(c.task_spec, BoundaryEvent)), None)


def _escalated_step(task) -> dict:
    """The step an escalation is about, when it is thrown on the path of a boundary timer on that
    step (its overdue path): the first boundary event among its nearest ancestors. {} otherwise."""
    ancestor = task.parent
    for _ in range(MAX_PATH_BACK):
        if ancestor is None:
            return {}
        if isinstance(ancestor.task_spec, BoundaryEvent):
            return _attached_to(ancestor)
        ancestor = ancestor.parent
    return {}


MAX_PATH_BACK = 10  # how far back an escalation's path is followed to its boundary timer


def _candidates(ctx: Context, text: str | None, data: dict) -> list[str]:
    """camunda:candidateGroups / candidateUsers: a comma list, items may be ${...}."""
    if not text:
        return []
    values = ctx.environment.value(text, data) if is_wrapped(text.strip()) else text
    if isinstance(values, str):
        values = values.split(",")
    # once each: a name twice (`${'g,' * 3}`) broke the candidate rows' unique key, told as a conflict
    return list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


PRIORITY_RANGE = (-INTEGER_MAX - 1, INTEGER_MAX)  # what the column holds on every database


def task_priority(value) -> int:
    """A user task's camunda:priority as the inbox keeps it: 50 when none is given; a whole
    number (or text of one, as written in the diagram) in PRIORITY_RANGE, else refused. A
    ${...} value is not seen by the deploy check: 'abc', a list or 10**20 ended in a traceback."""
    if value is None or value == "":
        return 50
    number = value
    if isinstance(value, str) and len(value.strip()) <= 12:
        try:
            number = int(value.strip())
        except ValueError:
            pass
    if isinstance(number, bool) or not isinstance(number, int) or not PRIORITY_RANGE[0] <= number <= PRIORITY_RANGE[1]:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        raise EvaluationError(f"优先级须为 {PRIORITY_RANGE[0]} 到 {PRIORITY_RANGE[1]} 之间的整数，实为 {shown}",
                              f"the priority must be a whole number from {PRIORITY_RANGE[0]} to {PRIORITY_RANGE[1]}, "
                              f"not {shown}")
    return number


def _task_row(ctx: Context, instance: Plan, task, survey: Survey) -> tuple[dict, list[dict]]:
    """The inbox row for a ready user task, and its candidate rows (without the task id yet)."""
    spec, data, env = task.task_spec, task.data, ctx.environment
    ext = spec.extensions or {}
    assignee_text = ext.get("camunda:assignee")
    assignee = env.value(assignee_text, data) if assignee_text and is_wrapped(assignee_text) else assignee_text
    priority_text = ext.get("camunda:priority")
    priority = env.value(priority_text, data) if priority_text and is_wrapped(priority_text) else priority_text
    try:
        priority = task_priority(priority)
    except EvaluationError as exc:
        raise engine_error(_with_task(exc, task)) from None
    due_text, follow_text = ext.get("camunda:dueDate"), ext.get("camunda:followUpDate")
    current = _deadline_variables(task, survey) if due_text or follow_text else data
    groups = _candidates(ctx, ext.get("camunda:candidateGroups"), data)
    users = _candidates(ctx, ext.get("camunda:candidateUsers"), data)
    row = dict(
        instance_id=instance.id, spiff_task_id=str(task.id), process_key=task.workflow.spec.name,
        element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, subject=instance_subject(env, task),
        candidate_unit=candidate_unit(env, spec, data), lane=spec.lane,
        documentation=spec.documentation, form_json=json.dumps(forms.describe(getattr(spec, "form", None)), ensure_ascii=False),
        candidate_groups=json.dumps(groups, ensure_ascii=False),
        candidate_users=json.dumps(users, ensure_ascii=False),
        assignee=str(assignee) if assignee else None,
        status="claimed" if assignee else "open",
        priority=priority,
        due_at=env.due(due_text, current) if due_text else None,
        due_basis=due_basis(due_text, current, ctx.now),
        follow_up_at=env.due(follow_text, current) if follow_text else None,
        created_at=ctx.now, claimed_at=ctx.now if assignee else None, version=1,
    )
    candidates = [{"kind": "group", "value": g} for g in groups] + [{"kind": "user", "value": u} for u in users]
    return row, candidates


_TASKS, _USERS = HumanTask.__table__, User.__table__
_OPEN_ROWS = select(_TASKS.c.id, _TASKS.c.spiff_task_id, _TASKS.c.element_id, _TASKS.c.name,
                    _TASKS.c.due_at, _TASKS.c.due_basis).where(
    _TASKS.c.instance_id == bindparam("instance_id"), is_open(_TASKS.c.status))
_CANCEL_TASK = update(_TASKS).where(_TASKS.c.id == bindparam("task_id")).values(
    status="cancelled", completed_at=bindparam("now"), version=_TASKS.c.version + 1)
# a deadline already missed when a variable first moves it is kept (first_due_at): the step is
# judged by it if the new one is later (engine/judged_due.py), in the same UPDATE
# (tests/test_statement_counts.py)
_MOVE_DUE = update(_TASKS).where(_TASKS.c.id == bindparam("task_id")).values(
    due_at=bindparam("due_at"), due_basis=bindparam("due_basis"),
    first_due_at=func.coalesce(_TASKS.c.first_due_at, bindparam("first_due_at", type_=_TASKS.c.first_due_at.type)))
# with each new row's id, whether anyone has an email address (engine/mail.py): answered by the
# same statement, so that without addresses the mail notifications cost no query of their own
_INSERT_TASKS = insert(_TASKS).returning(
    _TASKS.c.id, select(_USERS.c.id).where(_USERS.c.email.is_not(None)).exists().label("anyone_mailed"),
    sort_by_parameter_order=True)
_INSERT_CANDIDATES = insert(TaskCandidate.__table__)


def _who_opened(survey: Survey, task) -> str | None:
    """"timer" or "escalation" for a step a timer that fired in this command, or an escalation
    caught in it, opened (`set_off`); None for the person's own (and without a timer or an
    escalation in the command, without looking)."""
    if not survey.timers_fired and not survey.escalations_by_timer:
        return None
    return set_off(task, survey.before)


def _spiff_task(survey: Survey, spiff_id: str):
    """The workflow's task of an inbox row, if the command's workflow still has it."""
    try:
        return survey.workflow.get_task_from_id(UUID(spiff_id))
    except (ValueError, TypeError, TaskNotFoundException):  # gone with a subprocess cancelled
        return None


def sync_tasks(ctx: Context, instance: Plan, survey: Survey) -> None:
    """Make the inbox rows match the workflow's ready user tasks."""
    ready = {str(t.id): t for t in survey.ready_user_tasks}
    # Any ORM change of this command still pending goes out first, as the ORM's autoflush would
    # (the hot paths write with Core and have none); then prebuilt Core statements on the same
    # connection, which skip the ORM's per-statement work.
    ctx.session.flush()
    conn = ctx.session.connection()
    open_rows = conn.execute(_OPEN_ROWS, {"instance_id": instance.id}).all()
    known = {row.spiff_task_id for row in open_rows}
    for row_id, spiff_id, element_id, name, due, basis in open_rows:
        if spiff_id not in ready:  # e.g. an interrupting timer took the path away
            conn.execute(_CANCEL_TASK, {"task_id": row_id, "now": ctx.now})
            by_timer = survey.timers_fired and _cut_by_timer(_spiff_task(survey, spiff_id), survey.before)
            ctx.log.record("task_cancelled", instance_id=instance.id, task_id=row_id,
                           element_id=element_id, name=name, by_system=by_timer)
        elif basis is not None:
            _follow_due_date(ctx, instance, survey, ready[spiff_id], row_id, due, basis)
    created = []
    for spiff_id, task in ready.items():
        if spiff_id in known:
            continue
        try:
            created.append(_task_row(ctx, instance, task, survey))
        except (ExpressionError, TimerValueError) as exc:
            raise engine_error(_with_task(exc, task)) from None
    if not created:
        return
    handed_on = _hand_on_from_inactive(conn, created)
    # Bulk INSERT ... RETURNING id: the rows are not needed as objects in this session, and the
    # unit of work cost more than the statements themselves.
    inserted = conn.execute(_INSERT_TASKS, [row for row, _ in created]).all()
    ids = [row.id for row in inserted]
    ctx.anyone_mailed = bool(inserted[0].anyone_mailed)
    candidates = [{"task_id": task_id, **c} for task_id, (_, cs) in zip(ids, created) for c in cs]
    if candidates:
        conn.execute(_INSERT_CANDIDATES, candidates)
    for task_id, (row, _) in zip(ids, created):
        why = _who_opened(survey, ready[row["spiff_task_id"]])
        if why == "escalation":
            ctx.opened_by_escalation.add(task_id)
        by_system = why == "timer" or (why == "escalation" and survey.escalations_by_timer
                                        and all(survey.escalations_by_timer))
        ctx.log.record("task_created", instance_id=instance.id, task_id=task_id, by_system=by_system,
                       element_id=row["element_id"], name=row["name"], process=row["process_key"],
                       assignee=row["assignee"], candidate_groups=json.loads(row["candidate_groups"]),
                       candidate_users=json.loads(row["candidate_users"]),
                       due_at=row["due_at"].isoformat() if row["due_at"] else None, priority=row["priority"],
                       **({"subject": row["subject"]} if row["subject"] else {}),
                       **({"candidate_unit": row["candidate_unit"]} if row["candidate_unit"] else {}),
                       **_calendar_warnings(ctx), **handed_on.get(id(row), {}))


# The new tasks' assignees, share-locked until the commit (FOR SHARE; SQLite serialises writers
# anyway): a deactivation under way is waited for and its result read, and one that comes later
# finds the task they were given and hands it back. Their activity is filtered in Python: a WHERE
# on it would judge a row a deactivation has just changed by the statement's older snapshot.
_ASSIGNEES = select(_USERS.c.username, _USERS.c.active).where(
    _USERS.c.username.in_(bindparam("names", expanding=True))).with_for_update(read=True)


def _hand_on_from_inactive(conn, created: list[tuple[dict, list[dict]]]) -> dict[int, dict]:
    """A new task whose assignee has left (users deactivate), e.g. `${initiator}` of a plan whose
    drafter moved on, opens for its other candidates instead of waiting in an inbox nobody
    opens; so does one kept to a unit its assignee does not work in (_outside_unit). Returns, by
    id() of each row changed, what its task_created event adds. A task with no other candidate
    stays with them, for the reform office to assign. An assignee no user has at all (a typo in a
    form's user field) is refused: Invalid, the whole action undone."""
    assigned = {row["assignee"] for row, _ in created if row["assignee"]}
    known = dict(conn.execute(_ASSIGNEES, {"names": sorted(assigned)}).all()) if assigned else {}
    gone = {name for name, active in known.items() if not active}
    for row, _ in created:  # a name nobody has (a typo in a form's user field): refused, not a lost step
        if row["assignee"] and row["assignee"] not in known:
            raise Invalid(f"环节「{row['name']}」({row['element_id']}) 的办理人「{row['assignee']}」不是本系统的用户，"
                          f"未做任何更改：请核对所填的用户名（在岗人员见「用户」页面或 reformflow users list） "
                          f"(the step's assignee {row['assignee']!r} is no user: nothing was changed; check the "
                          f"user name entered)")
    changed = {}
    for row, _ in created:
        name = row["assignee"]
        if name in gone and has_other_candidates(conn, json.loads(row["candidate_groups"]),
                                                 json.loads(row["candidate_users"]), name, row["candidate_unit"]):
            row.update(assignee=None, status="open", claimed_at=None)
            changed[id(row)] = {"assignee_inactive": name}
        elif name and (outside := _outside_unit(conn, row)) is not None:
            row.update(assignee=None, status="open", claimed_at=None)
            changed[id(row)] = outside
    return changed


def _outside_unit(conn, row: dict) -> dict | None:
    """A new task kept to a unit but given to someone outside it (`${initiator}` of a plan whose
    lead unit was changed at 确认方案任务信息, or whose drafter moved to another unit) is that
    unit's step: when a member of its groups there may take it, what its task_created event adds
    as it opens for them. None otherwise (not kept to a unit, they work there, they are named as
    a candidate or are not a member of its groups — the reform office that started the plan on
    the unit's behalf —, or nobody there could take it: it stays with them)."""
    unit, name, groups = row["candidate_unit"], row["assignee"], json.loads(row["candidate_groups"])
    if unit is None or not groups or name in json.loads(row["candidate_users"]):
        return None
    member = conn.execute(_GROUP_MEMBER_UNIT, {"username": name, "groups": groups}).first()
    if member is None:
        return None
    theirs = (member.unit or "").strip() or None
    if theirs == unit or not unit_members(conn, groups, unit, besides=name):
        return None
    return {"assignee_outside_unit": name, "unit": theirs}


def has_other_candidates(conn, groups: list[str], users: list[str], username: str,
                         unit: str | None = None) -> bool:
    """Whether a task for `username` has someone else to take it: another user, or a group (a
    leaver's held tasks go back to them, directory.py; a new task for a leaver opens for them).
    A task kept to one unit (`candidate_unit`) counts only that unit's active group members: an
    open task nobody there may claim would wait unseen, so it waits for the office instead."""
    if any(u != username for u in users):
        return True
    if not groups or unit is None:
        return bool(groups)
    return unit_members(conn, groups, unit, besides=username)


def unit_members(conn, groups: list[str], unit: str, *, besides: str | None = None) -> bool:
    """Whether an active member of one of `groups` works in `unit` (names compared trimmed),
    other than `besides`."""
    return conn.execute(_UNIT_MEMBER, {"groups": list(groups), "unit": unit.strip(),
                                       "besides": besides or ""}).first() is not None


# a user's unit, if they are a member of one of `groups`
_GROUP_MEMBER_UNIT = (select(Unit.__table__.c.name.label("unit")).select_from(_USERS)
                      .outerjoin(Unit.__table__, Unit.__table__.c.id == _USERS.c.unit_id)
                      .join(memberships, memberships.c.user_id == _USERS.c.id)
                      .join(Group.__table__, Group.__table__.c.id == memberships.c.group_id)
                      .where(_USERS.c.username == bindparam("username"),
                             Group.__table__.c.code.in_(bindparam("groups", expanding=True)))
                      .limit(1))
_UNIT_MEMBER = (select(_USERS.c.id).select_from(_USERS)
                .join(Unit.__table__, Unit.__table__.c.id == _USERS.c.unit_id)
                .join(memberships, memberships.c.user_id == _USERS.c.id)
                .join(Group.__table__, Group.__table__.c.id == memberships.c.group_id)
                .where(Group.__table__.c.code.in_(bindparam("groups", expanding=True)),
                       func.trim(Unit.__table__.c.name) == bindparam("unit"),
                       _USERS.c.active.is_(True), _USERS.c.username != bindparam("besides"))
                .limit(1))


# The functions counted on the working-day calendar: a deadline using one is counted again when
# the calendar changes (engine/recount.py) and is 暂定 in a year it does not know (engine/provisional.py).
WORKDAY_FUNCTIONS = frozenset({"workingDays", "addWorkingDays", "periodEnd"})


def due_basis(due_text: str | None, variables, at: datetime) -> str | None:
    """What a due date is computed from, as JSON {"at", "values", "working_days"}: the moment
    (working days count from it), the variables the expression names, with their values (sorted,
    so that equal values give equal text), and whether it counts working days (then a year the
    calendar does not know makes it provisional, engine/provisional.py). None for a literal or an
    expression that neither names a variable nor counts working days: nothing can change it later."""
    if not due_text or not is_wrapped(due_text.strip()):
        return None
    expression = compile_expression(due_text.strip(), FUNCTION_NAMES)
    working_days = bool(expression.functions & WORKDAY_FUNCTIONS)
    if not expression.names and not working_days:
        return None
    values = {name: variables.get(name) for name in expression.names}
    return json.dumps({"at": at.isoformat(), "values": values, "working_days": working_days},
                      ensure_ascii=False, default=str, sort_keys=True)


def _values(basis: str) -> str:
    return json.dumps(json.loads(basis)["values"], ensure_ascii=False, sort_keys=True)


def is_multi_instance_item(task) -> bool:
    """Whether a SpiffWorkflow task is one item of a multi-instance activity."""
    parent = task.parent if task is not None else None
    return parent is not None and isinstance(parent.task_spec, MultiInstanceTask)


# The extension property of a multi-instance user task or subprocess that says what names each
# instance, e.g. ${reporter.unit} (docs/modeling.md).
INSTANCE_LABEL = "instanceLabel"
SUBJECT_LENGTH = 200  # human_tasks.subject


def instance_subject(env: SafeEnvironment, task) -> str | None:
    """Which instance of a multi-instance activity a task belongs to, as people name it: for a
    task in a round of reports, the reporting body (市财政局). The nearest multi-instance
    activity around the task that names its instances says: its `instanceLabel` property
    evaluated over the instance's data, or else its element variable when that is plain text
    or a number. None outside any, or when none names its instances (an item without the
    field the label reads names nothing rather than stopping the round)."""
    while task is not None:
        if is_multi_instance_item(task):
            subject = _item_label(env, task)
            if subject:
                return subject[:SUBJECT_LENGTH]
        workflow = task.workflow
        # up to the task that runs the subprocess this task is in; None at the plan itself
        task = None if workflow.parent_task_id is None else \
            workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return None


# The extension property of a user task that keeps it, while open for its candidate groups, to
# the members of one unit, e.g. ${leadUnit}: a drafting step is for the lead unit's drafters, not
# every drafter in the city (docs/modeling.md).
CANDIDATE_UNIT = "candidateUnit"
# The process property naming the variable that holds the unit a plan is for (leadUnit): set at
# the start or on a step's form, by the reform office to any unit, by anyone else to their own
STARTER_UNIT = "starterUnit"
UNIT_LENGTH = 200  # units.name, human_tasks.candidate_unit


def candidate_unit(env: SafeEnvironment, spec, data: dict) -> str | None:
    """The unit a user task is kept to: its `candidateUnit` property evaluated over the task's
    data, trimmed. None without the property, or when it gives nothing (a filing started on its
    own, without a lead unit): the whole group, as before."""
    text = ((spec.extensions or {}).get(CANDIDATE_UNIT) or "").strip()
    if not is_wrapped(text):  # the deploy check refuses anything else
        return None
    value = env.value(text, data)
    unit = "" if value is None else str(value).strip()
    return unit[:UNIT_LENGTH] or None


def _item_label(env: SafeEnvironment, item) -> str | None:
    """The label of one instance (`item`: the multi-instance activity's child for it)."""
    spec = item.parent.task_spec
    # Camunda's elementVariable: SpiffWorkflow keeps it as output_item and sets input_item only
    # when the activity starts in this process
    reference = spec.input_item or spec.output_item
    element = item.data.get(reference.bpmn_id) if reference is not None else None
    label = (item.task_spec.extensions or {}).get(INSTANCE_LABEL)
    if label and is_wrapped(label.strip()):
        try:  # over the instance's data, which holds its element variable
            element = env.value(label.strip(), item.data)
        except EvaluationError:  # a record without the field: no label (the deploy check saw the syntax)
            return None
    if isinstance(element, bool) or not isinstance(element, (str, int, float)):
        return None
    return str(element).strip() or None


def _deadline_variables(task, survey: Survey) -> ChainMap:
    """What a task's dates are computed from: the plan's current variables first, since the
    task's own data is a copy taken when its branch reached it and another branch may have
    changed a value since (a new filing deadline); then the task's data for what the plan does
    not hold. A multi-instance task's own item comes before all: each instance has its own. Inside
    an instance of a multi-instance subprocess the task's own data comes before the plan's: the
    instance's values are its own (one body's resubmitBy is not another's, whose review wrote the
    plan's latest), and one it set again unchanged shows in no change the plan could replay."""
    own = {}
    if is_multi_instance_item(task):
        spec = task.parent.task_spec
        for item in (spec.input_item, spec.output_item):
            if item is not None and item.bpmn_id in task.data:
                own[item.bpmn_id] = task.data[item.bpmn_id]
    if _in_an_instance(task):
        return ChainMap(own, task.data, survey.variables)
    return ChainMap(own, survey.variables, task.data)


def _in_an_instance(task) -> bool:
    """Whether `task` runs inside one instance of a multi-instance subprocess."""
    owner = _owner(task.workflow)
    while owner is not None:
        if is_multi_instance_item(owner):
            return True
        owner = _owner(owner.workflow)
    return False


def _follow_due_date(ctx: Context, instance: Plan, survey: Survey, task, row_id: int,
                     due: datetime | None, basis: str) -> None:
    """An open task's due date computed again when a variable its expression names has changed
    since it was last computed. Once per change, so an expression that also counts from today
    moves only then."""
    due_text = task.task_spec.extensions.get("camunda:dueDate")
    variables = _deadline_variables(task, survey)
    new_basis = due_basis(due_text, variables, ctx.now)
    if new_basis is None or _values(new_basis) == _values(basis):
        return
    try:
        new_due = ctx.environment.due(due_text, variables)
    except (ExpressionError, TimerValueError) as exc:
        raise engine_error(_with_task(exc, task)) from None
    moved = new_due != due
    # kept only when it was already missed: a deadline extended before it passed (a revised
    # rectification deadline) is the deadline; one ordered after it passed (限期报送) does not undo it
    missed = moved and due is not None and due <= ctx.now
    ctx.session.connection().execute(_MOVE_DUE, {"task_id": row_id, "due_at": new_due, "due_basis": new_basis,
                                                 "first_due_at": due if missed else None})
    if moved:
        ctx.log.record("task_due_changed", instance_id=instance.id, task_id=row_id,
                       element_id=task.task_spec.bpmn_id, name=task.task_spec.bpmn_name,
                       old={"due_at": due.isoformat() if due else None, "inputs": json.loads(basis)["values"]},
                       new={"due_at": new_due.isoformat() if new_due else None,
                            "inputs": json.loads(new_basis)["values"]},
                       **_calendar_warnings(ctx))


def _calendar_warnings(ctx: Context) -> dict:
    """Deadlines computed on the statutory holidays and weekends for a year nobody has entered holidays for."""
    if "calendar" not in ctx.__dict__ or not ctx.calendar.warnings:
        return {}
    return {"calendar_warnings": [w.message for w in ctx.calendar.warnings]}


def _with_task(exc: Exception, task) -> Exception:
    exc.task = task
    return exc


def _next_timer(workflow: BpmnWorkflow) -> datetime | None:
    dues = []
    for event in workflow.waiting_events():
        value = event.value
        if isinstance(value, str):
            try:
                dues.append(datetime.fromisoformat(value))
            except ValueError:
                continue
    return min(dues) if dues else None


_SAVE_PLAN = update(_PLANS).where(_PLANS.c.id == bindparam("plan_id"),
                                   _PLANS.c.version == bindparam("old_version")).values(
    state_json=bindparam("state"), variables_json=bindparam("variables"),
    next_timer_at=bindparam("next_timer"), version=bindparam("new_version"))
_END_PLAN = update(_PLANS).where(_PLANS.c.id == bindparam("plan_id")).values(
    status="completed", ended_at=bindparam("now"))
_STOP_PLAN = update(_PLANS).where(_PLANS.c.id == bindparam("plan_id")).values(
    status="cancelled", ended_at=bindparam("now"), next_timer_at=None, version=_PLANS.c.version + 1)


def cancel_plan(ctx: Context, instance: Plan, reason: str) -> list[dict]:
    """A plan stopped by the reform office: its open inbox rows withdrawn, no timer to fire, the
    workflow's state left as it stood. Returns the tasks withdrawn (task_id, element_id, name)."""
    conn = ctx.session.connection()
    withdrawn = []
    for row_id, _spiff_id, element_id, name, _due, _basis in conn.execute(_OPEN_ROWS, {"instance_id": instance.id}):
        conn.execute(_CANCEL_TASK, {"task_id": row_id, "now": ctx.now})
        ctx.log.record("task_cancelled", instance_id=instance.id, task_id=row_id, element_id=element_id,
                       name=name, reason="plan_cancelled")
        withdrawn.append({"task_id": row_id, "element_id": element_id, "name": name})
    conn.execute(_STOP_PLAN, {"plan_id": instance.id, "now": ctx.now})
    ctx.log.record("instance_cancelled", instance_id=instance.id, reason=reason,
                   old={"status": "running"}, new={"status": "cancelled"})
    return withdrawn  # the version moved on: a cached workflow of this plan is never used again


# New and changed tasks in one statement; a task keeps its first position. The same text on
# SQLite (3.24+) and PostgreSQL. Plain text, because SQLAlchemy cannot cache its dialect-specific
# on_conflict_do_update() construct and compiled it again on every save (~0.3 ms).
_UPSERT_TASKS = text(
    "INSERT INTO instance_tasks (instance_id, task_id, workflow, position, body) "
    "VALUES (:instance_id, :task_id, :workflow, :position, :body) "
    "ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body")
_DELETE_TASKS = delete(_WORKFLOW_TASKS).where(_WORKFLOW_TASKS.c.instance_id == bindparam("plan_id"),
                                              _WORKFLOW_TASKS.c.task_id == bindparam("gone"))


def save(ctx: Context, instance: Plan, workflow: BpmnWorkflow, survey: Survey) -> None:
    """Write back what changed: the tasks this command changed (not the whole state), the
    state's header and the plan's columns. The plan row's version is checked: it was locked,
    so a mismatch means a writer that did not lock it, and nothing of this command is kept."""
    instance.next_timer_at = _next_timer(workflow)
    changes = dump_changes(workflow)
    conn = ctx.session.connection()
    saved = conn.execute(_SAVE_PLAN, {
        "plan_id": instance.id, "old_version": instance.version, "new_version": instance.version + 1,
        "state": changes.header, "next_timer": instance.next_timer_at,
        "variables": json.dumps(survey.variables, ensure_ascii=False, default=str)})
    if saved.rowcount != 1:
        raise StaleDataError(f"plan {instance.id} changed under its lock (version {instance.version})")
    instance.version += 1
    if changes.upserts:
        conn.execute(_UPSERT_TASKS, [{"instance_id": instance.id, **row} for row in changes.upserts])
    if changes.deletes:
        conn.execute(_DELETE_TASKS, [{"plan_id": instance.id, "gone": task_id} for task_id in changes.deletes])
    if workflow.completed and instance.status == "running":
        instance.status = "completed"
        conn.execute(_END_PLAN, {"plan_id": instance.id, "now": ctx.now})
        ends = survey.ends
        end = max(ends, key=lambda t: t.last_state_change).task_spec if ends else None
        ctx.log.record("instance_ended", instance_id=instance.id,
                       end_event=getattr(end, "bpmn_id", None), end_name=getattr(end, "bpmn_name", None))
