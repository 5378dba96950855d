"""What can never come to rest: subprocesses nested deeper than the engine runs, and loops of
automatic steps (gateways, scripts, throw events) with nothing on them that waits.

Both passed check and deploy, and every start was then refused (engine/walk.py): "子流程嵌套超过
30 层" or "流程连续自动执行了 1000 个步骤". A call activity calling its own process is the other
such case, said by `calls`."""
from __future__ import annotations

from ..walk import MAX_AUTOMATIC_STEPS, MAX_SUBPROCESS_DEPTH
from .common import Doc, is_bpmn
from .gateways import FLOW_NODES

_SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")
# Where a plan comes to rest: a person's step (an untyped or manual task waits for one too), a
# message, signal or timer, or a subprocess or called process, which may hold any of these.
_WAITS = {"userTask", "task", "manualTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway",
          "boundaryEvent", "callActivity", *_SUBPROCESSES}
_AUTOMATIC = FLOW_NODES - _WAITS
_SHOWN = 10  # elements named in a loop's warning, at most


def rule_subprocess_depth(doc: Doc):
    """Embedded subprocesses inside each other: the engine refuses a plan at the level past
    walk.MAX_SUBPROCESS_DEPTH, so the first subprocess at that level is an error here."""
    for sub in doc.iter(*_SUBPROCESSES):
        depth = 1 + sum(1 for above in sub.iterancestors() if is_bpmn(above, *_SUBPROCESSES))
        if depth == MAX_SUBPROCESS_DEPTH + 1:
            yield doc.problem(sub, "bpmn", f"此子流程嵌套在第 {depth} 层，引擎最多运行 {MAX_SUBPROCESS_DEPTH} 层子流程，方案"
                              f"到此会被拒绝；请减少嵌套，把内层的环节移到外层或被调用的流程中 (this subprocess is "
                              f"nested {depth} deep; the engine runs subprocesses at most {MAX_SUBPROCESS_DEPTH} deep and "
                              "would refuse the plan here: nest less, moving the inner steps out or into a called "
                              "process)")


def rule_automatic_loops(doc: Doc):
    """A cycle of sequence flows through automatic steps only: once entered, nothing stops the
    plan but a condition, and where none lets it leave the engine gives up after
    MAX_AUTOMATIC_STEPS. A warning, since conditions may break it."""
    nodes = {el.get("id"): el for el in doc.iter(*_AUTOMATIC)}
    after = {nid: [t for t in (f.get("targetRef") for f in doc.outgoing.get(nid, [])) if t in nodes] for nid in nodes}
    for loop in map(set, _cycles(after)):
        ordered = [el for nid, el in nodes.items() if nid in loop]  # in the file's order
        names = ", ".join(el.get("id") for el in ordered[:_SHOWN]) + (" …" if len(ordered) > _SHOWN else "")
        yield doc.problem(ordered[0], "loop", f"循环 {names} 上只有网关、脚本等自动步骤，没有用户任务、定时器或接收事件："
                          f"除非条件让流程离开，它会一直自动运行，引擎在 {MAX_AUTOMATIC_STEPS} 步后拒绝该方案；请确认"
                          f"条件能让流程离开，或在循环上加一个用户任务 (the loop {names} has only automatic steps such "
                          "as gateways and scripts, and no user task, timer or receive event: unless a condition lets "
                          f"the plan leave, it runs on by itself and the engine refuses the plan after "
                          f"{MAX_AUTOMATIC_STEPS} steps; make sure a condition lets it leave, or put a user task on "
                          "the loop)", "warning")


def _cycles(after: dict[str, list[str]]) -> list[list[str]]:
    """The node sets that lie on a cycle: the strongly connected components with more than one
    node or with a flow to itself (Tarjan's algorithm, with a stack in place of recursion)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in after:
        if root in index:
            continue
        work = [(root, iter(after[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(after[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in after[node]:
                        found.append(component)
    return found
