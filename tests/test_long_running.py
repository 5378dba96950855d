"""A web or timer worker runs for months: what it keeps of the process versions it has used is
bounded. Every version a plan acted on or a step's page showed was kept for good (200 versions
deployed and used took a worker from 90 MB to 191 MB)."""
from __future__ import annotations

from engine import archive, state
from engine.commands import Engine

from .conftest import FIXTURES, read


def _version(n: int) -> tuple[str, bytes]:
    name, content = read(FIXTURES / "diagrams" / "mini_approval.bpmn")
    return name, content.replace('name="简易审批"'.encode(), f'name="简易审批（第 {n} 稿）"'.encode())


def _first_step(engine: Engine, plan_id: int) -> dict:
    return engine.instance(plan_id)["tasks"][0]


def test_a_worker_keeps_few_versions_and_a_plan_on_one_it_dropped_goes_on(engine, people, monkeypatch):
    monkeypatch.setattr(state, "SPECS_KEPT", 2)
    monkeypatch.setattr(archive, "DIAGRAMS_KEPT", 2)
    plans = []
    for n in range(1, 5):
        assert engine.deploy([_version(n)])[0]["version"] == n
        plans.append(engine.start("mini_approval", actor="zhang")["id"])
        with engine.db.reader() as s:  # what a step's page reads of its diagrams
            archive.procedure_records(s, plans[-1])
    assert len(engine.specs) == 2 and len(archive._DIAGRAMS) <= 2
    first = _first_step(engine, plans[0])  # on version 1, dropped long since
    engine.complete(first["id"], actor="zhang", data={"summary": "概要"})
    assert _first_step(engine, plans[0])["element_id"] == "Task_Review"
    with engine.db.reader() as s:
        archive.procedure_records(s, plans[0])
    assert len(engine.specs) == 2 and len(archive._DIAGRAMS) <= 2
