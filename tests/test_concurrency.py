"""Concurrent users on one task or one plan: a clear conflict, never a lost update."""
from __future__ import annotations

import threading

import pytest

from engine.commands import Engine
from engine.errors import Conflict
from engine.queries import list_tasks

from .conftest import FIXTURES, read


def run_together(*calls):
    """Start every call at the same moment; return each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def plan(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    for n in range(3):
        engine.add_user(f"legal{n}", f"法制{n}", groups=["legal"])
    return engine.start("parallel_review", actor="zhang")


def test_many_users_claiming_one_task_exactly_one_wins(engine, plan):
    legal_task = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    users = ["li", "legal0", "legal1", "legal2"]
    results = run_together(*[lambda u=u: Engine(engine.db).claim(legal_task["id"], actor=u) for u in users])
    winners = [r for r in results if isinstance(r, dict)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(conflicts) == 3, results
    assert engine.instance(plan["id"])["tasks"][0]["assignee"] in users


def test_two_users_completing_parallel_tasks_of_one_plan_lose_nothing(engine, plan):
    legal = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    risk = next(t for t in plan["tasks"] if t["element_id"] == "Task_Risk")
    engine.claim(legal["id"], actor="li")
    engine.claim(risk["id"], actor="zhou")
    results = run_together(
        lambda: Engine(engine.db).complete(legal["id"], actor="li", data={"legalOpinion": "合法"}),
        lambda: Engine(engine.db).complete(risk["id"], actor="zhou", data={"riskOpinion": "低风险"}))
    assert all(isinstance(r, dict) for r in results), results
    view = engine.instance(plan["id"])
    # both completions reached the workflow: the join fired and both opinions survive
    assert [t["element_id"] for t in view["tasks"]] == ["Task_Summary"]
    with engine.db.reader() as s:
        summary = list_tasks(s, "zhang", "mine")[0]
    engine.complete(summary["id"], actor="zhang")
    final = engine.instance(plan["id"])["variables"]
    assert final["legalOpinion"] == "合法" and final["riskOpinion"] == "低风险"


def test_the_same_task_completed_twice_at_once_is_one_completion_and_one_conflict(engine, plan):
    legal = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    engine.claim(legal["id"], actor="li")
    results = run_together(
        lambda: Engine(engine.db).complete(legal["id"], actor="li", data={"legalOpinion": "甲"}),
        lambda: Engine(engine.db).complete(legal["id"], actor="li", data={"legalOpinion": "乙"}))
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1, results


def test_a_stale_form_is_a_conflict(engine, plan):
    legal = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    seen_version = legal["version"]
    engine.claim(legal["id"], actor="li")
    engine.unclaim(legal["id"], actor="li")
    with pytest.raises(Conflict):
        engine.claim(legal["id"], actor="legal0", expected_version=seen_version)
