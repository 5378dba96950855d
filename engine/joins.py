"""A parallel join that keeps what every branch wrote on this pass.

SpiffWorkflow 3.2.0's join merges the data of *every* finished arrival at the join, oldest
first, then its own branch. When a returned plan runs the parallel argumentation a second time,
the first pass's arrivals and the last branch's stale copies overwrite values the other
branches just entered (e.g. the second public consultation's period reverts to the first's).

This join takes, per incoming flow, only the newest arrival, and applies each branch's
*changes* relative to the data at the split on top of that data. `install()` swaps it in for
SpiffWorkflow's; the engine calls it once at start-up.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

_MISSING = object()
_original_run_hook = UnstructuredJoin._run_hook


def _common_ancestor(tasks):
    """The nearest task all branches descend from: where this pass split."""
    paths = []
    for task in tasks:
        path = []
        while task is not None:
            path.append(task)
            task = task.parent
        paths.append(path[::-1])
    common = None
    for level in zip(*paths):
        if all(t is level[0] for t in level):
            common = level[0]
        else:
            break
    return common


def _run_hook(self, my_task):
    finished = [t for t in my_task.workflow.tasks.values()
                if t.task_spec == self and t.has_state(TaskState.FINISHED_MASK)
                and not my_task.is_descendant_of(t)]
    newest_per_input = {}
    for task in sorted(finished, key=lambda t: t.last_state_change):
        if task.parent.task_spec is not my_task.parent.task_spec:
            newest_per_input[task.parent.task_spec.name] = task
    arrivals = sorted(newest_per_input.values(), key=lambda t: t.last_state_change) + [my_task]
    split = _common_ancestor([t.parent for t in arrivals])
    base = split.data if split is not None else {}
    merged = dict(base)
    for arrival in arrivals:
        for key, value in arrival.parent.data.items():
            if base.get(key, _MISSING) != value:
                merged[key] = value
    for task in finished:
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)  # as SpiffWorkflow does, for resets inside a branch
    my_task.data = merged
    return True


def install() -> None:
    UnstructuredJoin._run_hook = _run_hook
