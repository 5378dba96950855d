"""How long the reform office waits for the ledger (`reformflow ledger`) and its spreadsheet, and
for the step-time statistics (`reformflow stats`), for a year's worth of plans at different stages.

    python bench/ledger.py [--plans 300] [--db URL]

Starts the plans through the engine, drives each to one of several stages (early, the legality
review, deliberation, filing), then times the ledger's query and the .xlsx and .csv files it
writes, and the statistics of how long each step took (engine/step_times.py: one query of the
inbox rows, the working days counted in Python), and prints the figures.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from engine import clock  # noqa: E402

from engine.commands import Engine  # noqa: E402
from engine.demo import MEMBERS, STANDARD_ANSWERS, add_people, library_files  # noqa: E402
from engine.drive import drive  # noqa: E402
from engine.ledger_export import write  # noqa: E402
from models import HumanTask  # noqa: E402
from models.db import Database  # noqa: E402

STAGES = [{"Task_DepartmentOpinions"}, {"Task_LegalityReview"}, {"Task_ReformOfficeReview"},
          {"Task_FileDocument"}]


def timed(fn, runs: int = 5) -> float:
    """Median milliseconds of `runs` calls."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def library_engine(url: str, password: str | None = None) -> Engine:
    """An engine over a migrated database with the demo's people and the process library."""
    db = Database(url)
    db.upgrade()
    engine = Engine(db)
    add_people(engine, password=password)
    engine.deploy(library_files())
    return engine


def make_plans(engine: Engine, plans: int, years: int = 1) -> float:
    """Start `plans` reform plans and drive each to one of STAGES; returns the seconds it took.
    `years` above 1: started evenly over that many years up to now (the engine clock frozen at
    each start), and of those started before this year (Beijing) nine in ten driven to their end,
    one in ten left open, carried over into this year as a reform office's older plans are."""
    t0 = time.perf_counter()
    now = clock.now()
    this_year = datetime(now.astimezone(clock.TZ).year, 1, 1, tzinfo=clock.TZ)
    span = timedelta(days=365 * years) if years > 1 else timedelta(0)
    for number in range(plans):
        started = now - span * (plans - 1 - number) / plans
        done = started < this_year and number % 10 != 0
        with clock.frozen(started):
            plan = engine.start("reform_plan", actor="zhang", title=f"改革方案 {number}")
            drive(engine, plan["id"], STANDARD_ANSWERS, MEMBERS,
                  stop_at=set() if done else STAGES[number % len(STAGES)])
        if (number + 1) % 100 == 0:
            print(f"  {number + 1}/{plans} plans started", file=sys.stderr)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = library_engine(args.db or f"sqlite:///{tmp}/ledger.sqlite3")
        db = engine.db
        made = make_plans(engine, args.plans)
        with db.reader() as s:
            tasks = s.execute(select(func.count()).select_from(HumanTask)).scalar()
        rows = engine.ledger()
        ledger_ms = timed(engine.ledger)
        xlsx_ms = timed(lambda: write(rows, f"{tmp}/ledger.xlsx"))
        csv_ms = timed(lambda: write(rows, f"{tmp}/ledger.csv"))
        stats = engine.step_times("chen")
        stats_ms = timed(lambda: engine.step_times("chen"))
        url = db.url
        db.dispose()
    print(f"database: {url.split('@')[-1]}")
    print(f"plans: {len(rows)} ({tasks} inbox rows), started and driven in {made:.1f} s")
    print(f"ledger (query and colours): {ledger_ms:.0f} ms")
    print(f"ledger as .xlsx: {xlsx_ms:.0f} ms; as .csv: {csv_ms:.0f} ms")
    print(f"step times (query and statistics): {stats_ms:.0f} ms for {len(stats['steps'])} steps, "
          f"{stats['completed']} completed and {stats['open']} open")


if __name__ == "__main__":
    main()
