"""How the office's user page finds someone's last sign-in in years of trail (engine/directory.py
sign_ins): 300,000 synthetic events by default (not chained: only the query is timed) of 200 people, then
the query for someone who never signed in, the longest walk there is. Prints the median of 15,
on SQLite and, with --pg URL, on PostgreSQL (an empty database: its tables are made here).

    python bench/sign_ins.py [--events 300000] [--pg postgresql://postgres@127.0.0.1:5432/rf_bench]
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from engine.directory import sign_ins  # noqa: E402
from models.db import Database  # noqa: E402

WHO = "rare"  # never signed in: every one of the sign-ins is looked at without the index


def run(url: str, label: str, n: int) -> None:
    db = Database(url)
    db.upgrade()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    users = [f"u{i}" for i in range(200)]
    with db.engine.begin() as c:
        kinds = ["signed_in"] * 3 + ["task_completed", "task_created", "task_claimed", "signed_out"]
        rows = [dict(seq=i + 1, occurred_at=t0 + timedelta(minutes=i), actor=random.choice(users),
                     event_type=random.choice(kinds), payload='{"address": "10.0.0.1"}', prev_hash="x" * 64,
                     hash="y" * 64, recorded_at=t0) for i in range(n)]
        c.execute(text("INSERT INTO audit_events (seq, occurred_at, actor, event_type, instance_id, task_id, payload, "
                       "prev_hash, hash, recorded_at) VALUES (:seq, :occurred_at, :actor, :event_type, NULL, NULL, "
                       ":payload, :prev_hash, :hash, :recorded_at)"), rows)

    def timed() -> float:
        times = []
        for _ in range(15):
            t = time.perf_counter()
            with db.reader() as s:
                sign_ins(s, WHO)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    if not db.is_sqlite:
        with db.engine.begin() as c:
            c.execute(text("ANALYZE audit_events"))
    with_index = timed()
    with db.engine.begin() as c:  # as before schema 0014
        c.execute(text("DROP INDEX ix_audit_events_type_actor_seq"))
    without = timed()
    print(f"{label}: {n} events, a user's sign-ins {with_index:.1f} ms (without schema 0014's index: {without:.1f} ms)")
    db.dispose()


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", help="an empty PostgreSQL database to fill")
    parser.add_argument("--events", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/sign_ins.sqlite3", "SQLite", args.events)
    if args.pg:
        run(args.pg, "PostgreSQL", args.events)
