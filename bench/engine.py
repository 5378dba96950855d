"""The same reform-plan lifecycle through the persisted engine and through bare in-memory
SpiffWorkflow; prints per-plan times and, last, `persisted/bare ratio: X.XX`.

Bare: the parsed specs in memory, BpmnWorkflow + do_engine_steps, answers (with the form's
defaults filled in) written straight into task data, with the same safe expression environment
(bare SpiffWorkflow cannot evaluate Camunda's ${...} conditions at all). Persisted: every step is an engine command — read the plan,
claim, complete with form validation, one transaction each, workflow state saved, inbox rows
synced, audit events hash-chained.

    python bench/engine.py [--plans 20] [--db URL] [--breakdown]

--breakdown also prints where the persisted side's time goes, per plan: each kind of command,
and inside them the engine steps, state serialization, inbox sync, audit and the time spent in
the database driver (SQL sent and answered, commits included). The timers cost a little, so the
ratio is measured on a separate set of plans without them.
"""
from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import audit, clock, cycles, deep_trees, forms, joins, runtime  # noqa: E402
from engine.commands import Engine, _setting  # noqa: E402
from engine.demo import MEMBERS, STANDARD_ANSWERS, add_people, library_files  # noqa: E402
from engine.drive import answer_for, drive  # noqa: E402
from engine.parser import parse_files  # noqa: E402
from engine.scripting import mark_timers, script_engine  # noqa: E402
from models.db import Database  # noqa: E402
from sqlalchemy import event  # noqa: E402

# The longest ordinary path: every argumentation branch, risk assessment, a major plan with the
# agenda, a party document with government duties, reporting up, issuance and filing.
START = {"leadUnit": "市财政局", "responsiblePerson": "张伟", "plannedCompletion": "2027-06-30", "category": "major", "touchesPublicInterest": True, "technical": True,
         "riskAssessmentRequired": True, "partyDocument": True, "governmentDuties": True,
         "reportUp": True}
ANSWERS = {**STANDARD_ANSWERS, "Task_RegisterPlan": START}


def bare_lifecycle(spec, subprocess_specs, settings: dict) -> int:
    """Run one plan in memory; returns the number of user tasks completed. `settings`: the
    process properties, which the engine's start puts in as variables."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update(
        {**START, **settings, "initiator": "zhang", "title": "bench", "businessKey": None})
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


def measure_alternately(sides: list, runs: int) -> list[list[float]]:
    """One plan each way in turn, so that every side runs under the same load on the machine
    (measured one side after the other, the ratio swung between 8 and 17 on a busy 2-core box)."""
    times: list[list[float]] = [[] for _ in sides]
    for _ in range(runs):
        for side, fn in zip(times, sides):
            side += measure(fn, 1)
    return times


class Breakdown:
    """Wall-clock totals of named steps, by wrapping the functions that do them."""

    COMMANDS = ("start", "claim", "complete", "instance")
    STEPS = {"settle (engine steps, same work as bare)": (runtime, "settle"),
             "dump_changes (serialize what changed)": (runtime, "dump_changes"),
             "sync_tasks (inbox rows)": (runtime, "sync_tasks"),
             "audit flush (hash chain)": (audit.AuditLog, "flush")}

    def __init__(self, db: Database):
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.on = False
        # SQL statements per command, by their first word (SELECT, INSERT, ...; COMMIT too)
        self.command: str | None = None
        self.calls: dict[str, int] = defaultdict(int)
        self.statements: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for name in self.COMMANDS:
            self._wrap(Engine, name, f"Engine.{name}" + (" (read)" if name == "instance" else ""), command=name)
        for label, (owner, name) in self.STEPS.items():
            self._wrap(owner, name, label)
        started: dict[int, float] = {}
        for sa_engine in {db.engine, db.read_engine}:
            @event.listens_for(sa_engine, "before_cursor_execute")
            def _before(conn, cursor, statement, *_):
                self._count(statement.split(None, 1)[0].upper())
                started[id(conn)] = time.perf_counter()

            @event.listens_for(sa_engine, "after_cursor_execute")
            def _after(conn, *_):
                self._add("database driver: SQL statements", time.perf_counter() - started.pop(id(conn)))
        self._wrap_commit()
        for sa_engine in {db.engine, db.read_engine}:
            self._wrap_begin(sa_engine.dialect)

    def _add(self, label: str, seconds: float) -> None:
        if self.on:
            self.totals[label] += seconds
            self.counts[label] += 1

    def _count(self, verb: str) -> None:
        if self.on and self.command:
            self.statements[self.command][verb] += 1

    def _wrap(self, owner, name: str, label: str, command: str | None = None) -> None:
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def timed(*args, **kwargs):
            outer = command and self.command is None  # start ends with a read: count it in start
            if outer:
                self.command = command
                self.calls[command] += self.on
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self._add(label, time.perf_counter() - t0)
                if outer:
                    self.command = None
        setattr(owner, name, timed)

    def _wrap_commit(self) -> None:
        from sqlalchemy.engine import default
        inner = default.DefaultDialect.do_commit

        def do_commit(dialect, dbapi_connection):
            t0 = time.perf_counter()
            self._count("COMMIT")
            try:
                return inner(dialect, dbapi_connection)
            finally:
                self._add("database driver: COMMIT", time.perf_counter() - t0)
        default.DefaultDialect.do_commit = do_commit

    def _wrap_begin(self, dialect) -> None:
        """SQLite's BEGIN, which models/db.py sends on the driver's connection, not as a statement."""
        inner = dialect.__dict__.get("do_begin")
        if inner is None:  # PostgreSQL: psycopg begins implicitly with the first statement
            return

        def do_begin(dbapi_connection):
            self._count("BEGIN")
            t0 = time.perf_counter()
            try:
                return inner(dbapi_connection)
            finally:
                self._add("database driver: SQL statements", time.perf_counter() - t0)
        dialect.do_begin = do_begin

    def report(self, plans: int) -> None:
        print(f"where the persisted time goes (ms per plan, {plans} plans, with timers on):")
        for label in [f"Engine.{c}" + (" (read)" if c == "instance" else "") for c in self.COMMANDS] \
                + list(self.STEPS) + ["database driver: SQL statements", "database driver: COMMIT"]:
            total, count = self.totals.get(label, 0.0), self.counts.get(label, 0)
            per_call = f"{total / count * 1000:6.2f} ms x {count / plans:4.1f}" if count else ""
            print(f"  {label:44s} {total / plans * 1000:7.1f}   {per_call}")
        print("SQL statements per command (COMMIT included; PostgreSQL's BEGIN is implicit):")
        for command in self.COMMANDS:
            calls, verbs = self.calls.get(command, 0), self.statements.get(command, {})
            if calls:
                kinds = ", ".join(f"{v} {n / calls:.1f}" for v, n in sorted(verbs.items()))
                print(f"  {command:10s} x{calls / plans:4.1f}/plan  {sum(verbs.values()) / calls:5.1f} each  ({kinds})")


def library() -> tuple:
    """The parsed library as bare SpiffWorkflow runs it: (the reform_plan spec, the specs of the
    processes it calls, its process properties as the engine's start sets them)."""
    clock.patch_spiffworkflow_clock()
    joins.install()
    cycles.install()
    deep_trees.install()
    parsed = {p.key: p for p in parse_files(library_files())}
    for p in parsed.values():
        mark_timers([p.spec, *p.embedded.values()])
    spec = parsed["reform_plan"].spec
    # the called processes, and the embedded subprocesses of every process (legality_review's)
    subprocess_specs = {k: p.spec for k, p in parsed.items() if k != "reform_plan"}
    subprocess_specs.update({name: sub for p in parsed.values() for name, sub in p.embedded.items()})
    settings = {name: _setting(value) for name, value in parsed["reform_plan"].properties.items()}
    return spec, subprocess_specs, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of the persisted side")
    parser.add_argument("--floor", action="store_true",
                        help="also run the floor (bench/floor.py) on the same database: the least any engine "
                             "keeping the same promises must do, written through the bare database driver")
    args = parser.parse_args()
    spec, subprocess_specs, settings = library()
    steps = bare_lifecycle(spec, subprocess_specs, settings)  # warm-up

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()
        engine = Engine(db)
        add_people(engine)  # a database given with --db may hold an earlier run's people: kept
        engine.deploy(library_files())
        assert persisted_lifecycle(engine) == steps  # warm-up; same path both ways
        sides = [lambda: bare_lifecycle(spec, subprocess_specs, settings), lambda: persisted_lifecycle(engine)]
        if args.floor:
            from floor import Floor
            floor = Floor(args.db or f"{tmp}/floor.sqlite3", spec, subprocess_specs, settings, START, ANSWERS)
            assert floor.lifecycle() == steps  # warm-up; same path again
            sides.append(floor.lifecycle)
        bare, persisted, *floor_times = measure_alternately(sides, args.plans)
        if args.breakdown:
            breakdown = Breakdown(db)
            breakdown.on = True
            measure(lambda: persisted_lifecycle(engine), args.plans)
            breakdown.on = False
        url = db.url
        db.dispose()
        if args.floor:
            floor.close()

    b, p = statistics.median(bare), statistics.median(persisted)
    print(f"database: {url.split('@')[-1]}")
    print(f"lifecycle: {steps} user tasks per plan, {args.plans} plans each way")
    print(f"bare SpiffWorkflow (in memory): median {b:.1f} ms per plan, {b / steps:.2f} ms per task")
    print(f"persisted engine:               median {p:.1f} ms per plan, {p / steps:.2f} ms per task "
          f"(start, {steps} completes, a claim per task not pre-assigned, a read per step)")
    if floor_times:
        f = statistics.median(floor_times[0])
        print(f"floor (bench/floor.py):         median {f:.1f} ms per plan, {f / steps:.2f} ms per task "
              f"(the same actions through the bare database driver)")
    if args.breakdown:
        breakdown.report(args.plans)
    if floor_times:
        print(f"persisted/floor ratio: {p / f:.2f}")
        print(f"floor/bare ratio: {f / b:.2f}")
    print(f"persisted/bare ratio: {p / b:.2f}")


if __name__ == "__main__":
    main()
