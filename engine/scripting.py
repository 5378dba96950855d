"""SpiffWorkflow's script environment, replaced: every condition, timer value and script from
a diagram goes through reformflow's safe evaluator (engine.expressions), never eval/exec.

SpiffWorkflow reads timer values as ISO strings and does its own month arithmetic (31-day
months). We mark each timer expression when a definition is parsed; when SpiffWorkflow asks us
to evaluate a marked expression we compute the due time with calendar months and Chinese
working days (engine.deadlines) and hand back a value SpiffWorkflow cannot misread: an exact
number of seconds for duration timers, an absolute UTC instant for date timers.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime
from collections import ChainMap
from contextlib import contextmanager
from typing import Callable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.camunda.specs.multiinstance_task import (ParallelMultiInstanceTask,
                                                            SequentialMultiInstanceTask)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimeDateEventDefinition)

from . import clock
from .deadlines import DEADLINE_FUNCTION_NAMES, TimerValueError, cycle_value, deadline_functions, due_at
from .expressions import EvaluationError, ExpressionError, compile_expression, compile_script, is_wrapped
from .workdays import WorkCalendar

FUNCTION_NAMES = frozenset(DEADLINE_FUNCTION_NAMES)
# what a form field's min / max may call besides: previous('meetingDate'), the value the plan held
# before this submission (the form's own field reads the value being submitted: a meeting's date
# could not be bounded by the earlier meeting's). Nowhere else: a condition or a script has no
# submission to be before (engine/checks/forms.py, refused elsewhere as an unknown function)
BOUND_FUNCTION_NAMES = FUNCTION_NAMES | {"previous"}
TIMER_MARK = "rf-timer:"
# The most instances a multi-instance loop cardinality may ask for: SpiffWorkflow creates them
# all at once, and 10**9 took 3.5 GB in a minute without an end.
MAX_INSTANCES = 1000
_TIMER_KINDS = {DurationTimerEventDefinition: "duration", TimeDateEventDefinition: "date",
                CycleTimerEventDefinition: "cycle"}


def mark_timers(specs) -> None:
    """Tag every timer expression in these process specs with its kind, every multi-instance
    loop cardinality as kind "instances", to be bounded, as its collection is, and every gateway
    condition as kind "condition", to give true or false (idempotent)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            for condition, _ in getattr(task_spec, "cond_task_specs", ()):
                if condition is not None and not condition.args[0].startswith(TIMER_MARK):
                    condition.args = (f"{TIMER_MARK}condition:{condition.args[0]}",)
            definition = getattr(task_spec, "event_definition", None)
            kind = _TIMER_KINDS.get(type(definition))
            if kind and not definition.expression.startswith(TIMER_MARK):
                definition.expression = f"{TIMER_MARK}{kind}:{definition.expression}"
            if not isinstance(task_spec, MultiInstanceTask):
                continue
            _collection_as_input(task_spec)
            if task_spec.cardinality and not task_spec.cardinality.startswith(TIMER_MARK):
                task_spec.cardinality = f"{TIMER_MARK}instances:{task_spec.cardinality}"
            task_spec.__class__ = _BOUNDED.get(type(task_spec), type(task_spec))  # specs are never saved again


def _collection_as_input(task_spec) -> None:
    """A camunda:collection is the activity's input and its output, one list: SpiffWorkflow's Camunda
    task sets the input on the (shared) spec only when the activity updates, in the process that
    runs it. A spec restored in another process (the next command, a restarted web worker) met
    the instances' completion with no input set, and appended every item to the list again:
    departments ['a', 'b'] became ['a', 'b', 'a', 'b'], and a loop back made twice the tasks."""
    if task_spec.cardinality is None and task_spec.data_output is not None and task_spec.data_input is None:
        task_spec.data_input = TaskDataReference(task_spec.data_output.bpmn_id)
        if task_spec.output_item is not None:
            task_spec.input_item = TaskDataReference(task_spec.output_item.bpmn_id)


class _BoundedCollection:
    """A multi-instance task whose camunda:collection is a list of at most MAX_INSTANCES items,
    checked before SpiffWorkflow makes one instance of each (20 000 items took 19 s and 3.3 GB; no
    list at all ended in a TypeError), and whose instances keep the plan within MAX_PLAN_TASKS."""

    def create_children(self, my_task):  # parallel
        self._check_size(my_task)
        return super().create_children(my_task)

    def init_remaining_items(self, my_task):  # sequential
        self._check_size(my_task)
        return super().init_remaining_items(my_task)

    def _check_size(self, my_task):
        error = self._size_error(my_task)
        if error is not None:
            raise WorkflowTaskException(str(error), task=my_task, exception=error) from error  # names the element

    def _size_error(self, my_task) -> EvaluationError | None:
        if self.data_input is None:  # a loop cardinality: bounded by SafeEnvironment.instances
            count = my_task.workflow.script_engine.evaluate(my_task, self.cardinality) if self.cardinality else 0
            return _plan_too_big(my_task, count if isinstance(count, int) else 0)
        name, value = self.data_input.bpmn_id, self.data_input.get(my_task)
        if value is None:
            return EvaluationError(f"集合 {name} 没有值：多实例须有一个列表", f"the collection {name} has no value: a "
                                   "multi-instance activity needs a list")
        if not isinstance(value, (list, tuple)):  # a dict too: Camunda takes a collection, not a map
            return EvaluationError(f"集合 {name} 须为列表，实为 {type(value).__name__} {str(value)[:40]!r}",
                                   f"the collection {name} must be a list, not {type(value).__name__} "
                                   f"{str(value)[:40]!r}")
        if len(value) > MAX_INSTANCES:
            return EvaluationError(f"集合 {name} 有 {len(value)} 项：多实例最多 {MAX_INSTANCES} 个实例",
                                   f"the collection {name} has {len(value)} items: a multi-instance "
                                   f"activity has at most {MAX_INSTANCES} instances")
        return _plan_too_big(my_task, len(value))


# A plan's task tree, all subprocesses included: the library's longest plan has ~120 tasks, a
# 1000-reporter round a few thousand. Multi-instance inside multi-instance multiplies (1000 x 1000
# ran out of memory after 217 s, holding the database's write lock).
MAX_PLAN_TASKS = 25_000


def _plan_too_big(my_task, adding: int) -> EvaluationError | None:
    top = my_task.workflow.top_workflow
    size = len(top.tasks) + sum(len(sub.tasks) for sub in top.subprocesses.values())
    if size + adding <= MAX_PLAN_TASKS:
        return None
    return EvaluationError(f"方案已有 {size} 个任务，再建 {adding} 个实例将超过每个方案 {MAX_PLAN_TASKS} 个任务的上限"
                           "（多实例是否套在多实例里？）",
                           f"the plan has {size} tasks already: {adding} more instances would pass the limit of "
                           f"{MAX_PLAN_TASKS} tasks a plan (a multi-instance inside another?)")


_BOUNDED = {cls: type(cls.__name__, (_BoundedCollection, cls), {})
            for cls in (ParallelMultiInstanceTask, SequentialMultiInstanceTask)}


def unmark(expression: str) -> tuple[str | None, str]:
    """Split a marked timer expression into (kind, original text)."""
    if not expression.startswith(TIMER_MARK):
        return None, expression
    kind, _, text = expression[len(TIMER_MARK):].partition(":")
    return kind, text


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates diagram expressions with reformflow's own interpreter."""

    def __init__(self, calendar: WorkCalendar | Callable[[], WorkCalendar] | None = None):
        """`calendar`: the working-day calendar, or a function that reads it; it is then read
        only when an expression first counts working days (most actions never do, and each
        read is a database query)."""
        super().__init__({})
        self._calendar = calendar or WorkCalendar()

    @property
    def calendar(self) -> WorkCalendar:
        if not isinstance(self._calendar, WorkCalendar):
            self._calendar = self._calendar()
        return self._calendar

    def add_working_days(self, start, n):
        return self.calendar.add_working_days(start, n)

    def functions(self) -> dict:
        # `self` stands in for the calendar, so that building the functions does not read it
        return deadline_functions(clock.now(), self)

    def value(self, text: str, variables) -> object:
        return compile_expression(text, FUNCTION_NAMES).evaluate(variables, self.functions())

    def bound(self, text: str, values, before) -> object:
        """A form field's min / max `${...}` over `values` (this submission's over the plan's),
        where previous(name) reads the plan's value from `before` this submission."""
        variables = ChainMap(values, before)
        with _explained(text, variables):
            return compile_expression(text, BOUND_FUNCTION_NAMES).evaluate(
                variables, {**self.functions(), "previous": previous_function(before)})

    def evaluate(self, expression, context, external_context=None):
        variables = ChainMap(context, external_context or {})
        kind, text = unmark(expression)
        with _explained(text, variables):
            if kind is None:
                return self.value(expression, variables)
            if kind == "instances":
                return self.instances(text, variables)
            if kind == "condition":
                return self.condition(text, variables)
            return self.timer_value(kind, text, variables)

    def condition(self, text: str, variables) -> bool:
        """A gateway condition gives true or false; null counts as false, as in Camunda. Any other
        value ('revise', a field's value itself) is refused: taken as true it sent a rejection
        down the approval's flow."""
        value = self.value(text, variables)
        if value is None or isinstance(value, bool):
            return bool(value)
        # in “ ” whatever it is: a list or map of Chinese text too (the English half stays English)
        shown = f"“{value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)[:60]}”"
        raise EvaluationError(f"条件的结果须为 true 或 false，实为 {shown}：条件须写成比较，如 ${{x == 'approve'}}",
                              f"a condition must give true or false, not {shown}: write a comparison, such as "
                              "${x == 'approve'}")

    def instances(self, text: str, variables) -> int:
        value = self.value(text, variables)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INSTANCES:
            raise EvaluationError(f"循环基数须为 0 到 {MAX_INSTANCES} 之间的整数，实为 {value!r}",
                                  f"loopCardinality must be a whole number from 0 to {MAX_INSTANCES}, not {value!r}")
        return value

    def timer_value(self, kind: str, text: str, variables) -> str:
        text = text.strip()
        value = self.value(text, variables) if is_wrapped(text) else text
        now = clock.now()
        if kind == "cycle":
            return cycle_value(value, now)
        due = due_at(value, now)
        if kind == "date":
            return due.isoformat()
        return f"PT{max(0, math.ceil((due - now).total_seconds()))}S"

    def due(self, text: str, variables):
        """A user task's camunda:dueDate / followUpDate as an aware UTC datetime."""
        text = text.strip()
        with _explained(text, variables):
            value = self.value(text, variables) if is_wrapped(text) else text
            return due_at(value, clock.now())

    def execute(self, script, context, external_context=None):
        assigned = compile_script(script or "", FUNCTION_NAMES).execute(context, self.functions())
        # A date is kept as ISO text, as a form's date field keeps it: a plan's saved state holds
        # JSON values only, and a date object there would fail the save.
        for name, value in assigned.items():
            if isinstance(value, (date, datetime)):
                context[name] = value.isoformat()
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks are not supported by reformflow")


def previous_function(before):
    """previous(name): the value `before` holds for `name` (null if none): the plan's, as it was
    before the form now submitted."""
    def previous(name):
        if not isinstance(name, str):
            raise EvaluationError("previous() 的参数须为带引号的字段名，如 previous('meetingDate')",
                                  "previous() takes a field's name in quotes, such as previous('meetingDate')")
        return before.get(name)
    return previous


@contextmanager
def _explained(text: str, variables):
    """An expression's or timer value's error leaves with the expression and its values."""
    try:
        yield
    except (ExpressionError, TimerValueError) as exc:
        _explain(exc, text, variables)
        raise


def _explain(exc: Exception, text: str, variables) -> None:
    """Keep with a failed expression's error the expression and the values it was given, for the
    refusal to say which value is wrong (SpiffWorkflow's own message only quotes the text)."""
    exc.expression = text.strip()
    try:
        names = compile_expression(exc.expression, BOUND_FUNCTION_NAMES).names
    except ExpressionError:  # a literal timer value, not an expression
        names = ()
    exc.values = {name: variables[name] for name in sorted(names) if name in variables}


def script_engine(calendar: WorkCalendar | Callable[[], WorkCalendar] | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SafeEnvironment(calendar))
