"""Deadlines counted in working days, counted again when the working-day calendar changes.

`workingDays(15)` is counted when the task opens, with the calendar as it is then. For a year
the calendar package does not know yet that calendar has the statutory holidays and weekends only
(a warning says so); when the reform office then enters the year's schedule (`reformflow calendar
set`), a deadline already counted across its bridging days and swapped working weekends would be
a day or more off. Here an open task's
due date, and the timers on it, are counted again from the same moment with the same values,
so that they fall where the official calendar puts them.

Timers that do not sit on an open user task (an intermediate "wait 5 working days") are not
counted again: when they started waiting is not kept.

A plan moved to a newer version whose rule for an open step's due date or a waiting timer
changed (engine/migration.py: periodEnd in the corrected diagrams) has them counted under the
new rule the same way, from the same moment and values (`due_under_rule`, `timer_under_rule`).
"""
from __future__ import annotations

import json
from collections import ChainMap
from datetime import date, datetime, timedelta
from typing import Iterable

from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimeDateEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, update

from models import HumanTask

from . import clock
from .expressions import compile_expression, is_wrapped
from .runtime import STARTED_AT, WORKDAY_FUNCTIONS, due_basis
from .scripting import FUNCTION_NAMES, SafeEnvironment, unmark

_TIMERS = (TimeDateEventDefinition, DurationTimerEventDefinition)  # a cycle is counted step by step
_TASKS = HumanTask.__table__
# a deadline counted again, with what it is counted from: the calendar's recount and a migration's
SET_DUE = update(_TASKS).where(_TASKS.c.id == bindparam("task_id")).values(
    due_at=bindparam("due_at"), due_basis=bindparam("due_basis"))


def counted_through(days: Iterable[date], years_turned: Iterable[int]) -> date:
    """The last day whose counting a calendar change changed, for Engine.recount_working_days: the
    days entered or taken back, and 31 December of a year that began or stopped counting as
    entered. Its make-up days guessed by the law (engine/workdays.py by_law), anywhere in the year,
    stopped or started counting with it: a step opened on 20 January and counted across 9 February
    moves when 1 January is the year's first entry (it stayed put, no longer marked 暂定)."""
    return max([*days, *(date(year, 12, 31) for year in years_turned)])


def counts_working_days(text: str | None) -> bool:
    """Whether an expression calls a working-day function (a literal never does)."""
    text = (text or "").strip()
    return is_wrapped(text) and bool(compile_expression(text, FUNCTION_NAMES).functions & WORKDAY_FUNCTIONS)


def recount_due(env: SafeEnvironment, task, due_text: str | None, basis: str | None) -> datetime | None:
    """The task's due date counted again with `env`'s calendar, from the moment and the values
    it was last counted from; None if it does not count working days."""
    if basis is None or not counts_working_days(due_text):
        return None
    basis = json.loads(basis)
    with clock.frozen(datetime.fromisoformat(basis["at"])):
        return env.due(due_text, ChainMap(basis["values"], task.data))


def marked_basis(basis: str | None, due_text: str | None) -> str | None:
    """A basis an older release kept without saying that its rule counts working days (the mark
    came with 暂定, engine/provisional.py), with the mark; None when it has it or needs none. Without
    it, a deadline counted into a year nobody entered is never marked 暂定, even after a recount."""
    if basis is None or not counts_working_days(due_text):
        return None
    kept = json.loads(basis)
    if kept.get("working_days"):
        return None
    return json.dumps({**kept, "working_days": True}, ensure_ascii=False, default=str, sort_keys=True)


def due_under_rule(env: SafeEnvironment, text: str | None, basis: str | None, opened: datetime,
                   variables) -> tuple[datetime | None, str | None]:
    """An open step's due date under another rule `text` (the version a plan moves to), counted
    from what its old rule was counted from: the moment and values of its `basis`, or, where the
    old rule kept none (a literal), from when the step opened with its `variables` now. Returns
    the due date and its new basis (what runtime keeps, so that a later change of a variable the
    new rule reads moves it again, and a change of nothing does not)."""
    if not text:
        return None, None
    at, values = opened, variables
    if basis is not None:
        kept = json.loads(basis)
        at, values = datetime.fromisoformat(kept["at"]), ChainMap(kept["values"], variables)
    with clock.frozen(at):
        return env.due(text, values), due_basis(text, values, at)


def timer_under_rule(env: SafeEnvironment, timer, expression: str, since: datetime) -> str | None:
    """A waiting timer's due moment under the timer rule `expression` (marked, as a spec keeps it),
    counted from `since`, when the timer started; None for a cycle (counted step by step)."""
    kind, text = unmark(expression)
    if kind not in ("date", "duration"):
        return None
    with clock.frozen(since):
        value = env.timer_value(kind, text, timer.data)
    return value if kind == "date" else (since + timedelta(seconds=int(value[2:-1]))).isoformat()


def recount_timers(env: SafeEnvironment, task, since: datetime) -> list[tuple[object, str, str]]:
    """The waiting timers that count working days on a user task, counted again from `since`
    (when the task, and with it its timers, started), and on the subprocesses around it (a
    review and its completion loop with the timers on the subprocess), counted from when each
    subprocess started. Each one that moves gets its new due time; returns (timer task, old,
    new) for those."""
    moved = []
    for holder, started in _holders(task, since):
        moved.extend(_recount_boundary_timers(env, holder, started))
    return moved


def _holders(task, since: datetime):
    """The task, then each activity that holds it (a subprocess, a call activity), with when
    each started."""
    yield task, since
    workflow = task.workflow
    while workflow.parent_task_id is not None:
        owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if owner is None:
            return
        yield owner, started(owner)
        workflow = owner.workflow


def started(owner) -> datetime:
    """When a subprocess or call activity started, by the engine's clock; for one started before
    reformflow kept that, SpiffWorkflow's own timestamp (the computer's clock)."""
    started = owner.internal_data.get(STARTED_AT)
    if started is not None:
        return datetime.fromisoformat(started)
    return datetime.fromtimestamp(owner.last_state_change, clock.TZ)


def _recount_boundary_timers(env: SafeEnvironment, holder, since: datetime) -> list[tuple[object, str, str]]:
    moved = []
    parent = holder.parent  # an activity with boundary events hangs below a split with them
    for timer in (parent.children if parent is not None else []):
        definition = getattr(timer.task_spec, "event_definition", None)
        if timer is holder or timer.state != TaskState.WAITING or type(definition) not in _TIMERS:
            continue
        kind, text = unmark(definition.expression)
        old = timer._get_internal_data("event_value")
        if kind not in ("date", "duration") or old is None or not counts_working_days(text):
            continue
        new = timer_under_rule(env, timer, definition.expression, since)
        if datetime.fromisoformat(new) != datetime.fromisoformat(old):
            timer._set_internal_data(event_value=new)
            moved.append((timer, old, new))
    return moved
