"""How long a person waits for a task's page and a plan's page when the plan's trail is long: one
plan returned to drafting round after round, with comments, urges (催办) and steps handed back
(交回待办) along the way, as people would make them.

    python bench/trail.py [--events 100,500,2000] [--db URL]

Grows one plan through the engine's commands until its trail holds each of the given numbers of
events, and at each asks the Flask application (its test client, as bench/web.py does) for the
drafter's returned step (退回修改: who sent it back and why, 送审材料一览) and for the plan's page
as the reform office opens them. Prints the median milliseconds and the SQL statements of each.
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

from sqlalchemy import event, func, select  # noqa: E402

from bench.ledger import library_engine  # noqa: E402
from bench.web import signed_in, timed  # noqa: E402
from engine import urging  # noqa: E402
from engine.demo import MEMBERS, PASSWORD, STANDARD_ANSWERS  # noqa: E402
from engine.drive import drive  # noqa: E402
from models import AuditEvent  # noqa: E402
from web import create_app  # noqa: E402

REVIEW = "Task_SpecialGroupReview"  # the 专项小组 sends the plan back to drafting from here
DRAFT = "Task_DraftPlan"


def open_step(engine, instance_id: int, element_id: str) -> dict:
    return next(t for t in engine.instance(instance_id)["tasks"] if t["element_id"] == element_id)


def one_round(engine, instance_id: int, number: int, chatter: int) -> None:
    """Redraft, go through the steps to the 专项小组's review, then back to drafting with a reason.
    On the way `chatter` times: the office asks about the redraft, urges it (催办) and the drafter
    answers; and the review is claimed and handed back (交回待办) a few times before it is done.
    (The rounds are few and the talk is much: SpiffWorkflow's task tree deepens with each round,
    and each command on the plan costs a little more per round, docs/performance.md.)"""
    draft = open_step(engine, instance_id, DRAFT)
    for said in range(chatter):
        engine.comment(instance_id, f"第 {number} 轮之{said}：请说明本轮修改了哪些内容。", actor="chen",
                       task_id=draft["id"])
        urging.urge(engine, draft["id"], actor="chen", note=f"第 {number} 轮之{said}：请于本周内完成修改。")
        engine.comment(instance_id, f"第 {number} 轮之{said}：正在修改，请稍候。", actor="zhang", task_id=draft["id"])
    drive(engine, instance_id, STANDARD_ANSWERS, MEMBERS, stop_at={REVIEW})
    review = open_step(engine, instance_id, REVIEW)
    for _ in range(max(chatter // 4, 1)):
        engine.claim(review["id"], actor="sun")
        engine.unclaim(review["id"], actor="sun")  # 交回待办, then taken again
    engine.claim(review["id"], actor="sun")
    engine.complete(review["id"], actor="sun", data={
        "specialGroupOpinion": f"第 {number} 轮：举措缺乏突破性", "specialGroupDecision": "return",
        "returnReason": f"第 {number} 轮：请补充绩效结果应用的具体措施"})


def cpu_timed(fn, runs: int) -> float:
    """Median CPU milliseconds of this process for `runs` calls: the database is SQLite in the same
    process, so this is the page's work, less sensitive than the wall clock to other work on a
    busy machine."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def events_of(engine, instance_id: int) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.instance_id == instance_id)).scalar_one()


def statements(db, fn) -> int:
    """The SQL statements one call runs, BEGIN/COMMIT not counted (as tests/test_statement_counts.py)."""
    found = []

    def count(_conn, _cursor, statement, *_):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            found.append(statement)
    engines = {db.engine, db.read_engine}
    for sa_engine in engines:
        event.listen(sa_engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        for sa_engine in engines:
            event.remove(sa_engine, "before_cursor_execute", count)
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", default="100,500,2000", help="trail lengths to measure at (comma-separated)")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--chatter", type=int, default=15,
                        help="comments, urges and replies (three events each) per round of redrafting (default 15)")
    args = parser.parse_args()
    targets = sorted(int(n) for n in args.events.split(","))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = library_engine(args.db or f"sqlite:///{tmp}/trail.sqlite3", password=PASSWORD)
        db = engine.db
        app = create_app(engine=engine, secret_key="bench")
        app.config["WTF_CSRF_ENABLED"] = False  # as bench/web.py: the sign-in form's token is not measured
        drafter, office = signed_in(app, "zhang"), signed_in(app, "chen")
        plan = engine.start("reform_plan", actor="zhang", title="深化财政绩效管理改革方案")
        drive(engine, plan["id"], STANDARD_ANSWERS, MEMBERS, stop_at={REVIEW})
        engine.claim(open_step(engine, plan["id"], REVIEW)["id"], actor="sun")
        engine.complete(open_step(engine, plan["id"], REVIEW)["id"], actor="sun", data={
            "specialGroupOpinion": "举措缺乏突破性", "specialGroupDecision": "return", "returnReason": "请补充具体措施"})
        number, t0 = 1, time.perf_counter()
        for target in targets:
            while (count := events_of(engine, plan["id"])) < target:
                number += 1
                one_round(engine, plan["id"], number, args.chatter)
            draft = open_step(engine, plan["id"], DRAFT)  # the returned step: 退回修改 on its page
            task_page = lambda: drafter.get(f"/tasks/{draft['id']}")  # noqa: E731
            plan_page = lambda: office.get(f"/plans/{plan['id']}")  # noqa: E731
            for page in (task_page, plan_page):  # warm: templates compiled, diagrams parsed
                assert page().status_code == 200, page().status_code
            whole = lambda: office.get(f"/plans/{plan['id']}/trail")  # noqa: E731
            rows.append((count, number, timed(task_page, args.runs), cpu_timed(task_page, args.runs),
                         statements(db, task_page), timed(plan_page, args.runs), cpu_timed(plan_page, args.runs),
                         statements(db, plan_page), len(plan_page().get_data()),
                         timed(whole, 3) if whole().status_code == 200 else None))
            print(f"  {count} events ({number} rounds) measured, {time.perf_counter() - t0:.0f} s so far",
                  file=sys.stderr)
        url = db.url
        db.dispose()
    print(f"database: {url.split('@')[-1]}")
    print("(ms: median wall clock; cpu: median CPU time of this process; sql: statements; "
          "whole: 全部留言与办理经过, median of 3)")
    print("events  rounds  task ms  task cpu  task sql  plan ms  plan cpu  plan sql  plan KB  whole ms")
    for count, rounds, task_ms, task_cpu, task_sql, plan_ms, plan_cpu, plan_sql, size, whole_ms in rows:
        whole_said = "-" if whole_ms is None else f"{whole_ms:.0f}"
        print(f"{count:6}  {rounds:6}  {task_ms:7.0f}  {task_cpu:8.0f}  {task_sql:8}  {plan_ms:7.0f}  {plan_cpu:8.0f}"
              f"  {plan_sql:8}  {size / 1024:7.0f}  {whole_said:>8}")


if __name__ == "__main__":
    main()
