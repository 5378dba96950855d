"""How long a person waits for the web inbox's pages, with a year's worth of plans.

    python bench/web.py [--plans 300] [--db URL]

Starts the plans as bench/ledger.py does (each driven to one of four stages; with --years 5, over
five years, most of the older ones driven to their end), then asks the
Flask application (in this process, through its test client: no network, no browser) for each
page as the people who use it would, and times a claim and a submit through the forms. Prints
the median milliseconds of each.
"""
from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import audit_checks, clock  # noqa: E402
from engine.demo import PASSWORD  # noqa: E402
from engine.queries import list_tasks  # noqa: E402
from bench.ledger import library_engine, make_plans  # noqa: E402
from models import AuditEvent  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from web import create_app  # noqa: E402

# filing.bpmn with one step renamed: what the check page compares with the deployed version
CHANGED_FILING = (ROOT / "bpmn" / "filing.bpmn").read_bytes().replace(
    'name="报送备案" camunda:assignee'.encode(), 'name="报送备案材料" camunda:assignee'.encode(), 1)


def timed(fn, runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = fn()
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code in (200, 302), (response.status_code, response.get_data(as_text=True)[:300])
    return statistics.median(times)


def signed_in(app, username: str):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--years", type=int, default=1,
                        help="start the plans over this many years, the older ones mostly finished (default 1: all now)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = library_engine(args.db or f"sqlite:///{tmp}/web.sqlite3", password=PASSWORD)
        db = engine.db
        made = make_plans(engine, args.plans, args.years)
        app = create_app(engine=engine, secret_key="bench")
        app.config["WTF_CSRF_ENABLED"] = False  # the forms' tokens are not what is measured
        office, legal = signed_in(app, "chen"), signed_in(app, "li")
        with db.reader() as s:
            reviews = [t for t in list_tasks(s, "li", "claimable") if t["element_id"] == "Task_LegalityReview"]
        review = reviews[0]
        figures = {
            "inbox, reform office (every open task, first page of 50)": timed(lambda: office.get("/tasks?scope=all")),
            "inbox, a legal reviewer": timed(lambda: legal.get("/tasks")),
            "a task's page": timed(lambda: legal.get(f"/tasks/{review['id']}")),
            "a plan's page with its trail": timed(lambda: legal.get(f"/plans/{review['instance_id']}")),
            "a plan's diagram (流程图, reform_plan drawn with its path)": timed(lambda: legal.get(f"/plans/{review['instance_id']}/diagram")),
            "plans list, reform office (first 50)": timed(lambda: office.get("/plans")),
            "ledger page": timed(lambda: office.get("/ledger")),  # this year's, plans carried over included
            "ledger page, all years (全部年度)": timed(lambda: office.get("/ledger?year=all")),
            "step times page (办理时效)": timed(lambda: office.get("/stats")),
            "overview page (工作台)": timed(lambda: office.get("/overview")),  # the year's ledger, supervision, counts
        }
        claims, completes = [], []
        for task in reviews[1:8]:
            t0 = time.perf_counter()
            legal.post(f"/tasks/{task['id']}/claim", data={"version": task["version"]})
            claims.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            answer = legal.post(f"/tasks/{task['id']}/complete", data={
                "version": task["version"] + 1, "legalityResult": "pass", "legalityOpinion": "同意"})
            completes.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 302 and re.search(r"/plans/\d+$", answer.location), answer.status_code
        figures["claim (button on the inbox)"] = statistics.median(claims)
        figures["submit a legality review (form)"] = statistics.median(completes)
        drafter = signed_in(app, "zhang")  # has drafted every plan: the longest 已办 list
        figures["已办 of the drafter (first 50)"] = timed(lambda: drafter.get("/tasks?scope=done"))
        figures["inbox, reform office, found by a word"] = timed(lambda: office.get("/tasks?scope=all&q=改革"))
        done_review = reviews[1]  # its legality review was submitted above
        figures["decision archive page of a reviewed plan"] = timed(lambda: office.get(f"/plans/{done_review['instance_id']}/archive"))
        figures["what a changed filing.bpmn changes (检查)"] = timed(lambda: office.post("/definitions/deploy", data={
            "action": "check", "files": (io.BytesIO(CHANGED_FILING), "filing.bpmn")}, content_type="multipart/form-data"), runs=3)
        with db.reader() as s:
            events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        # the whole chain, as the button's thread runs it (the page shows the result when it is done)
        checks = []
        for _ in range(3):
            t0 = time.perf_counter()
            assert audit_checks.run(engine, audit_checks.start(engine, "chen")["id"])["result"]["ok"]
            checks.append((time.perf_counter() - t0) * 1000)
        figures[f"audit check of the whole trail ({events} events, progress written)"] = statistics.median(checks)
        this_year = len(engine.ledger(year=clock.today().year))
        url = db.url
        db.dispose()
    print(f"database: {url.split('@')[-1]}")
    print(f"plans: {args.plans} over {args.years} year(s), started and driven in {made:.1f} s"
          f" ({this_year} on this year's ledger)")
    for name, ms in figures.items():
        print(f"{name}: {ms:.0f} ms")


if __name__ == "__main__":
    main()
