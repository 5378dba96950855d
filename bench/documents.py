"""What attached files cost: uploading one (`reformflow attach`), reading it back with its
SHA-256 checked (`reformflow document`), and `audit verify`, which reads every file.

    python bench/documents.py [--sizes 0.1,1,5,20] [--files 5] [--db URL]

For each size (MB), the drafter of one plan attaches `--files` files of random bytes (so that no
layer can compress them) to the task they hold; then each is read back. Last, `audit verify`
walks the chain and every file. Prints medians in ms and the rates in MB/s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.audit import verify  # noqa: E402
from engine.commands import Engine  # noqa: E402
from engine.demo import MEMBERS, STANDARD_ANSWERS, add_people, library_files  # noqa: E402
from engine.drive import drive  # noqa: E402
from models.db import Database  # noqa: E402


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.1,1,5,20", help="file sizes in MB, comma-separated")
    parser.add_argument("--files", type=int, default=5, help="files of each size")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{tmp}/documents.sqlite3")
        db.upgrade()
        engine = Engine(db)
        add_people(engine)
        engine.deploy(library_files())
        plan = engine.start("reform_plan", actor="zhang", title="附件基准", data={"leadUnit": "市财政局"})
        drive(engine, plan["id"], STANDARD_ANSWERS, MEMBERS, stop_at={"Task_DraftPlan"})
        task = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_DraftPlan")
        print(f"database: {db.url.split('@')[-1]}")
        print(f"{'size':>8}  {'attach ms':>10}  {'MB/s':>7}  {'read ms':>9}  {'MB/s':>7}")
        total = 0
        for size in sizes:
            content_size = int(size * 1024 * 1024)
            attach, read = [], []
            for n in range(args.files):
                content = b"%PDF-1.7\n" + os.urandom(content_size - 9)  # a PDF's header: the upload checks it
                ids = []
                attach.append(_ms(lambda: ids.append(engine.attach(task["id"], f"{size}MB-{n}.pdf", content,
                                                                   actor="zhang")["id"])))
                read.append(_ms(lambda: engine.document(ids[0])))
                total += content_size
            a, r = statistics.median(attach), statistics.median(read)
            mb = content_size / 1024 / 1024
            print(f"{size:>6} MB  {a:>10.1f}  {mb / a * 1000:>7.0f}  {r:>9.1f}  {mb / r * 1000:>7.0f}")
        with db.reader() as session:
            result = []
            elapsed = _ms(lambda: result.append(verify(session)))
        checked = result[0]
        assert checked.ok, checked.problems
        print(f"audit verify: {checked.events} events and {checked.files} files ({total / 1024 / 1024:.0f} MB) "
              f"in {elapsed:.0f} ms, {total / 1024 / 1024 / elapsed * 1000:.0f} MB/s")
        db.dispose()


if __name__ == "__main__":
    main()
