"""The nodes of a diagram reached from some nodes along its sequence flows: one walk for the
check of unreachable elements (checks/gateways.py) and for the gates of a statutory procedure
(procedure_gates.py), each giving what follows a node in its own structure."""
from __future__ import annotations

from typing import Callable, Iterable


def reached(starts: Iterable[str], after: Callable[[str], Iterable[str]]) -> set[str]:
    """`starts` and every node reached from them, `after(node)` naming the nodes that follow one."""
    seen, pending = set(), list(starts)
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(n for n in after(node) if n not in seen)
    return seen
