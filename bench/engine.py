"""The same reform-plan lifecycle through the persisted engine and through bare in-memory
SpiffWorkflow; prints per-plan times and, last, `persisted/bare ratio: X.XX`.

Bare: the parsed specs in memory, BpmnWorkflow + do_engine_steps, answers (with the form's
defaults filled in) written straight into task data, with the same safe expression environment
(bare SpiffWorkflow cannot evaluate Camunda's ${...} conditions at all). Persisted: every step is an engine command — read the plan,
claim, complete with form validation, one transaction each, workflow state saved, inbox rows
synced, audit events hash-chained.

    python bench/engine.py [--plans 20] [--db URL]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import clock, forms, joins  # noqa: E402
from engine.commands import Engine  # noqa: E402
from engine.demo import GROUPS, MEMBERS, PEOPLE, STANDARD_ANSWERS  # noqa: E402
from engine.drive import answer_for, drive  # noqa: E402
from engine.parser import parse_files  # noqa: E402
from engine.scripting import mark_timers, script_engine  # noqa: E402
from models.db import Database  # noqa: E402

# The longest ordinary path: every argumentation branch, risk assessment, a major plan with the
# agenda, a party document with government duties, reporting up, issuance and filing.
START = {"leadUnit": "市财政局", "category": "major", "touchesPublicInterest": True, "technical": True,
         "riskAssessmentRequired": True, "partyDocument": True, "governmentDuties": True,
         "reportUp": True}
ANSWERS = {**STANDARD_ANSWERS, "Task_RegisterPlan": START}


def files():
    return [(p.name, p.read_bytes()) for p in sorted((ROOT / "bpmn").glob("*.bpmn"))]


def bare_lifecycle(spec, subprocess_specs) -> int:
    """Run one plan in memory; returns the number of user tasks completed."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update(
        {**START, "initiator": "zhang", "title": "bench", "businessKey": None})
    workflow.do_engine_steps()
    done: dict[str, int] = {}
    while not workflow.completed:
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        element = task.task_spec.bpmn_id
        answer = answer_for(ANSWERS, {"element_id": element}, done.get(element, 0))
        # the form's defaults, as a task form would fill them in: same variables both ways
        task.data.update(forms.validate(forms.describe(task.task_spec.form), answer, task.data))
        done[element] = done.get(element, 0) + 1
        task.run()
        workflow.do_engine_steps()
    return sum(done.values())


def persisted_lifecycle(engine: Engine) -> int:
    plan = engine.start("reform_plan", actor="zhang", title="bench", data=START)
    return len(drive(engine, plan["id"], ANSWERS, MEMBERS))


def measure(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    clock.patch_spiffworkflow_clock()
    joins.install()

    parsed = {p.key: p for p in parse_files(files())}
    for p in parsed.values():
        mark_timers([p.spec, *p.embedded.values()])
    spec = parsed["reform_plan"].spec
    subprocess_specs = {k: p.spec for k, p in parsed.items() if k != "reform_plan"}
    steps = bare_lifecycle(spec, subprocess_specs)  # warm-up
    bare = measure(lambda: bare_lifecycle(spec, subprocess_specs), args.plans)

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()
        engine = Engine(db)
        for code, name in GROUPS.items():
            engine.add_group(code, name)
        for username, display, group, unit in PEOPLE:
            engine.add_user(username, display, groups=[group], unit=unit)
        engine.deploy(files())
        assert persisted_lifecycle(engine) == steps  # warm-up; same path both ways
        persisted = measure(lambda: persisted_lifecycle(engine), args.plans)
        url = db.url
        db.dispose()

    b, p = statistics.median(bare), statistics.median(persisted)
    print(f"database: {url.split('@')[-1]}")
    print(f"lifecycle: {steps} user tasks per plan, {args.plans} plans each way")
    print(f"bare SpiffWorkflow (in memory): median {b:.1f} ms per plan, {b / steps:.2f} ms per task")
    print(f"persisted engine:               median {p:.1f} ms per plan, {p / steps:.2f} ms per task "
          f"({steps * 2 + 1} commands + {steps} reads)")
    print(f"persisted/bare ratio: {p / b:.2f}")


if __name__ == "__main__":
    main()
