"""A plan sent round the same loop many times (returned to drafting again and again, a monthly
report for years) keeps running.

SpiffWorkflow keeps a loop's every round in its task tree, each round one level below the last:
a plan returned to drafting 80 times is a tree some thousands of tasks deep. SpiffWorkflow 3.2.0
was not written for that depth:
- its task iterator stops descending at depth 1000 (as did the engine's own walk, engine/walk.py,
  which copied it): the steps of a later round were not found and the plan stood still with no
  open step (the two-step loop of tests/test_deep_trees.py after 333 returns); SpiffWorkflow's
  joins, timers and waiting tasks ask that iterator;
- `Task.is_descendant_of`, `Task.find_ancestor`, `Task._drop_children` and
  `Workflow._remove_task` call themselves once per level, so past Python's recursion limit a join raised RecursionError, which the engine took for a
  diagram forking without end (reform_plan after 82 returns to drafting).
`install()` lifts the depth limit and puts loops in place of those recursions; the engine calls
it once at start-up. The answers are the same at any depth SpiffWorkflow handled before. What
stopped a diagram that loops without end through automatic steps is now an explicit limit
(walk.MAX_AUTOMATIC_STEPS), no longer the depth at which the walk gave up.
"""
from __future__ import annotations

import sys

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

UNLIMITED = sys.maxsize


def _lift_depth_limit(iterator_class) -> None:
    """The default of the iterator's `max_depth` argument set to UNLIMITED (every caller inside
    SpiffWorkflow takes the default)."""
    init = iterator_class.__init__
    code = init.__code__
    names = code.co_varnames[1:code.co_argcount]
    defaults = list(init.__defaults__)
    defaults[names.index("max_depth") - (len(names) - len(defaults))] = UNLIMITED
    init.__defaults__ = tuple(defaults)


def _is_descendant_of(self, task) -> bool:
    parent = self.parent
    while parent is not None:
        if parent == task:
            return True
        parent = parent.parent
    return False


def _find_ancestor(self, spec_name: str):
    parent = self.parent
    while parent is not None:
        if parent.task_spec.name == spec_name:
            return parent
        parent = parent.parent
    return None


def _drop_children(self, force: bool = False) -> None:
    """SpiffWorkflow's: remove the unfinished children (all with `force`) of this task and, below
    its finished children, theirs; with a list instead of recursion. The same tasks go; the order
    of removal may differ (nothing in the engine listens to it)."""
    drop = []
    pending = [(self, force)]
    while pending:
        task, forced = pending.pop()
        later = []
        for child in task.children:
            if forced or child.has_state(TaskState.NOT_FINISHED_MASK):
                drop.append(child)
            else:
                later.append((child, False))
        pending.extend(reversed(later))
    for task in drop:  # subtrees apart from each other: the order of removal does not matter
        task.workflow._remove_task(task.id)


def _remove_task(self, task_id) -> None:
    """SpiffWorkflow's Workflow._remove_task (a task and everything below it) with a list instead
    of recursion: each task goes after its descendants, as there."""
    order, pending = [], [self.tasks[task_id]]
    while pending:
        task = pending.pop()
        order.append(task)
        pending.extend(task.children)
    for task in reversed(order):
        task.parent._children.remove(task.id)
        self.tasks.pop(task.id)
        self._task_removed_notify(task)


def install() -> None:
    """Idempotent."""
    _lift_depth_limit(TaskIterator)
    _lift_depth_limit(BpmnTaskIterator)
    Task.is_descendant_of = _is_descendant_of
    Task.find_ancestor = _find_ancestor
    Task._drop_children = _drop_children
    Workflow._remove_task = _remove_task
