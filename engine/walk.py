"""Walking a workflow's task tree, and running its engine steps, at a fraction of the cost of
SpiffWorkflow's own iterator.

SpiffWorkflow 3.2.0 finds tasks with a generic iterator that pays a Python generator step, a
filter object and a list rebuild per task visited. `BpmnWorkflow.do_engine_steps` asks it for
the ready tasks several times per step, over the whole tree (~115 tasks for a plan).
`tree_tasks` gives the same tasks in the same order with a plain walk (~4x faster);
`engine_steps` is `do_engine_steps` written over it, so the engine runs the very same tasks in
the very same order, in 17–20% less time (docs/performance.md, round 5). tests/test_walk.py
holds both to SpiffWorkflow's own answers after every step of whole plans.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .parser import diagram_name

# Call activities and subprocesses inside each other: the library nests three at most.
MAX_SUBPROCESS_DEPTH = 30


def every_task(workflow: BpmnWorkflow):
    """The tasks of the plan and of its subprocesses, in no particular order: a plain walk over
    the task dicts, for questions whose answer does not depend on the order."""
    for task in workflow.tasks.values():
        yield task
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def tree_tasks(workflow, state: int = TaskState.ANY_MASK) -> list:
    """What `workflow.get_tasks(state=state)` returns, in the same depth-first order: the tasks
    of `workflow` (the plan or one of its subprocesses) and of the subprocesses below it.

    As SpiffWorkflow's iterator does, it descends into every subprocess (finished ones too), and
    does not look below tasks in a state lower than the filter can ever reach below them
    (predicted tasks only have predicted children; definite ones no finished children)."""
    if state & TaskState.PREDICTED_MASK:
        min_state = TaskState.MAYBE
    elif state & TaskState.DEFINITE_MASK:
        min_state = TaskState.FUTURE
    else:
        min_state = TaskState.COMPLETED
    subprocesses = workflow.top_workflow.subprocesses
    found = []
    append = found.append
    # a list of tasks still to visit, not recursion: a plan looped round many times is a tree
    # thousands of levels deep (engine/deep_trees.py)
    pending = [workflow.task_tree]
    pop, extend = pending.pop, pending.extend
    while pending:
        task = pop()
        task_state = task._state
        if task_state & state:
            append(task)
        subprocess = subprocesses.get(task.id)
        if subprocess is None and task_state < min_state:
            continue
        children = task._children
        if children:
            lookup = task.workflow.tasks
            extend([lookup[child] for child in reversed(children)])
        if subprocess is not None:
            pending.append(subprocess.task_tree)  # visited before the children, as SpiffWorkflow does
    return found


# Automatic steps (not user tasks) one run of engine steps may take. A command of the library
# takes a few dozen (14 at most while the demo loads); a loop through automatic steps alone
# would run on without end.
MAX_AUTOMATIC_STEPS = 1000


def engine_steps(workflow: BpmnWorkflow) -> None:
    """`workflow.do_engine_steps()`: run ready tasks that are not user tasks, innermost
    subprocesses first, until none is left; then refresh the timers. Refused past
    MAX_AUTOMATIC_STEPS steps, or subprocesses nested deeper than MAX_SUBPROCESS_DEPTH."""
    budget = [MAX_AUTOMATIC_STEPS]
    while _engine_pass(workflow, budget):
        pass
    workflow.refresh_timers()


def _engine_pass(workflow: BpmnWorkflow, budget: list[int]) -> bool:
    # BpmnWorkflow._do_engine_steps, without its callbacks (the engine uses none).
    active = workflow.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda sub: sub.depth, reverse=True):
        if subprocess.depth > MAX_SUBPROCESS_DEPTH:
            _too_deep(workflow, subprocess)
        while _run_ready(subprocess, budget) > 0:
            pass
        if subprocess.parent_task_id is not None:
            task = workflow.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)
    count = _run_ready(workflow, budget)
    return count > 0 or len(workflow.get_active_subprocesses()) > len(active)


def _too_deep(workflow: BpmnWorkflow, subprocess) -> None:
    """A process that calls itself (or A calls B calls A) would start subprocesses without end."""
    from .errors import Invalid
    task = workflow.get_task_from_id(subprocess.parent_task_id)
    where = f"{diagram_name(task.workflow.spec)}: element {task.task_spec.bpmn_id}: "
    raise Invalid(f"{where}子流程嵌套超过 {MAX_SUBPROCESS_DEPTH} 层，流程可能在调用自己，未做任何更改，请修改流程图 "
                  f"(subprocesses are nested more than {MAX_SUBPROCESS_DEPTH} deep: does the process call itself? "
                  "Nothing was changed; correct the diagram.)")


def _run_ready(workflow, budget: list[int]) -> int:
    count = 0
    for task in tree_tasks(workflow, TaskState.READY):  # taken before any runs, as SpiffWorkflow does
        if not task.task_spec.manual:
            owner = task.workflow
            if getattr(owner, "depth", 0) > MAX_SUBPROCESS_DEPTH:  # a process calling itself nests on in this loop
                _too_deep(owner.top_workflow, owner)
            budget[0] -= 1
            if budget[0] < 0:
                _runaway(task)
            task.run()
            count += 1
    return count


def _runaway(task) -> None:
    """A loop of automatic steps (script tasks, gateways) that never reaches a user task or a timer."""
    from .errors import Invalid
    from .runtime import element_where  # runtime imports this module
    raise Invalid(f"{element_where(task.workflow.spec, task.task_spec)}流程连续自动执行了 {MAX_AUTOMATIC_STEPS} 个步骤"
                  "仍未停在用户任务或定时器上，可能有一个不经过用户任务或定时器的循环，未做任何更改，请修改流程图 "
                  f"(the process ran {MAX_AUTOMATIC_STEPS} automatic steps without coming to rest at a user task or a "
                  "timer (a loop without either?). Nothing was changed; correct the diagram.)")
