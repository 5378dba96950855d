"""A parallel join that keeps what every branch wrote on this pass.

SpiffWorkflow 3.2.0's join merges the data of *every* finished arrival at the join, oldest
first, then its own branch. When a returned plan runs the parallel argumentation a second time,
the first pass's arrivals and the last branch's stale copies overwrite values the other
branches just entered (e.g. the second public consultation's period reverts to the first's).

This join takes, per incoming flow, only the newest arrival, and applies each branch's
*changes* relative to the data at the split on top of that data.

SpiffWorkflow also decides *when* a join fires by looking at every task of the join in the
tree, so on a second pass the first pass's arrivals count as branches that have arrived: the
parallel join fired as soon as the branch that came last before came first again, the
inclusive join on the first arrival. Here both look only at the current pass: the tasks below
the join's latest firing in the arriving task's ancestry (the whole tree on the first pass).

`install()` swaps these in for SpiffWorkflow's; the engine calls it once at start-up.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskIterator, TaskState

_MISSING = object()
_original_run_hook = UnstructuredJoin._run_hook


def _this_pass(spec, my_task, **filters):
    """The tasks (matching `filters`) of the current pass through the join `spec`: below the
    join's latest firing among my_task's ancestors, or the whole tree on the first pass."""
    previous = my_task.find_ancestor(spec.name)  # an ancestor join task is one that fired
    roots = previous.children if previous is not None else [my_task.workflow.task_tree]
    return [task for root in roots for task in TaskIterator(root, **filters)]


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
    finished = [t for t in _this_pass(self, my_task, spec_name=self.name)
                if t.has_state(TaskState.FINISHED_MASK) and t is not my_task]
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


def _parallel_threshold(self, my_task):
    """SpiffWorkflow's ParallelGateway check, fed only this pass's join tasks."""
    waiting_inputs = set(self.inputs)

    def remove_ancestor(task):
        # Trace a task's parents until one is an input of this join (a loop, not recursion: a
        # plan looped round many times is a tree thousands of levels deep, engine/deep_trees.py)
        while task is not None:
            if task.task_spec in waiting_inputs:
                waiting_inputs.remove(task.task_spec)
                return
            task = task.parent

    for task in _this_pass(self, my_task, spec_name=self.name):
        if task.is_descendant_of(my_task):
            remove_ancestor(task)  # reached only after this join fires: do not wait for it
        elif task.parent.state == TaskState.COMPLETED:
            waiting_inputs.discard(task.parent.task_spec)
    return not waiting_inputs


def _inclusive_threshold(self, my_task):
    """SpiffWorkflow's InclusiveGateway check, fed only this pass's tasks (its own walk from
    the root stops at the first pass's join and never sees this pass's arrivals)."""
    tasks, sources = [], []
    for task in _this_pass(self, my_task, end_at_spec=self.name):
        if task.task_spec == self:
            tasks.append(task)
        elif task.has_state(TaskState.READY | TaskState.WAITING):
            sources.append(task.task_spec)

    completed_inputs = {t.parent.task_spec for t in tasks if t.parent.state == TaskState.COMPLETED}
    # A started branch that has not arrived yet: wait (an input only needs to complete once).
    if any(t.parent.has_state(TaskState.DEFINITE_MASK) and t.parent.task_spec not in completed_inputs
           for t in tasks):
        return False

    # Otherwise wait only if an active task can still reach an input that has not arrived.
    checked = []

    def check(spec):  # the source this spec can be reached from, if any (as SpiffWorkflow)
        checked.append(spec)
        for parent in spec.inputs:
            if parent not in checked:
                return parent if parent in sources else check(parent)

    for spec in completed_inputs:
        source = check(spec)
        if source is not None:
            sources.remove(source)
    return not any(check(spec) is not None for spec in self.inputs if spec not in completed_inputs)


def install() -> None:
    UnstructuredJoin._run_hook = _run_hook
    ParallelGateway._check_threshold_unstructured = _parallel_threshold
    InclusiveGateway._check_threshold_unstructured = _inclusive_threshold
