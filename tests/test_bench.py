"""The benchmark is a tool people run to decide things: it must run, print its figures in the
form docs/performance.md quotes, and the floor it compares against must really do the work it
claims (a floor that skipped saving would make the engine look slow for nothing). Times are
not asserted here; bench/ prints them."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import psycopg
import pytest

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bench.engine import ANSWERS, START, library
from bench.floor import TABLES, Floor
from engine.scripting import script_engine
from engine.state import load_state

from .conftest import ROOT


def test_the_benchmark_runs_and_ends_with_the_ratio_line(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--plans", "1", "--floor"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert re.fullmatch(r"persisted/bare ratio: \d+\.\d\d", lines[-1])
    assert re.fullmatch(r"floor/bare ratio: \d+\.\d\d", lines[-2])
    assert re.fullmatch(r"persisted/floor ratio: \d+\.\d\d", lines[-3])
    assert "lifecycle: 23 user tasks per plan" in done.stdout


def test_the_ledger_benchmark_runs_and_prints_its_figures(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "ledger.py"), "--plans", "4"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^plans: 4 \(\d+ inbox rows\)", done.stdout, re.M)
    assert re.search(r"^ledger \(query and colours\): \d+ ms$", done.stdout, re.M)
    assert re.search(r"^ledger as \.xlsx: \d+ ms; as \.csv: \d+ ms$", done.stdout, re.M)
    assert re.search(r"^step times \(query and statistics\): \d+ ms for \d+ steps, \d+ completed and [1-9]\d* open$",
                     done.stdout, re.M)


def test_the_web_benchmark_runs_and_prints_each_page(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "web.py"), "--plans", "12"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    for page in ("inbox, reform office (every open task, first page of 50)", "a task's page", "a plan's page with its trail",
                 "ledger page", "step times page (办理时效)", "overview page (工作台)", "claim (button on the inbox)",
                 "submit a legality review (form)", "decision archive page of a reviewed plan",
                 "what a changed filing.bpmn changes (检查)"):
        assert re.search(rf"^{re.escape(page)}: \d+ ms$", done.stdout, re.M), page
    assert re.search(r"^audit check of the whole trail \(\d+ events, progress written\): \d+ ms$", done.stdout, re.M)


def test_the_trail_benchmark_grows_one_plan_and_prints_a_line_per_length(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "trail.py"), "--events", "30,80", "--runs", "1",
                           "--chatter", "3"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^ *(\d+) +(\d+)(?: +\d+){7} +\d+$", done.stdout, re.M)
    assert len(rows) == 2, done.stdout
    (first, first_rounds), (second, second_rounds) = [(int(a), int(b)) for a, b in rows]
    assert 30 <= first < 80 <= second and first_rounds < second_rounds  # the same plan, returned again


def test_the_sign_in_benchmark_times_the_query_with_and_without_its_index(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "sign_ins.py"), "--events", "5000"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"SQLite: 5000 events, a user's sign-ins [\d.]+ ms \(without schema 0014's index: [\d.]+ ms\)\n",
                        done.stdout), done.stdout


@pytest.fixture(params=["sqlite", "postgres"])
def floor_database(request, tmp_path):
    """Where the floor writes: a SQLite file, or the test PostgreSQL database (its floor_ tables
    dropped afterwards, so that the schema tests see only the engine's tables)."""
    if request.param == "sqlite":
        yield str(tmp_path / "floor.sqlite3")
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")


def test_the_floor_saves_every_action_and_chains_every_event(floor_database):
    spec, subprocess_specs, settings = library()
    floor = Floor(floor_database, spec, subprocess_specs, settings, START, ANSWERS)
    assert floor.lifecycle() == 23
    assert floor.lifecycle() == 23

    cur = floor.database.cursor()

    def rows(sql):
        return cur.execute(sql).fetchall()

    assert rows("SELECT status FROM floor_plans") == [("completed",), ("completed",)]
    # every inbox row was completed, and each one's creation, claim (when not pre-assigned) and
    # completion is in the chain
    assert Counter(status for status, in rows("SELECT status FROM floor_inbox")) == {"completed": 46}
    kinds = Counter(json.loads(body)["event"] for body, in rows("SELECT body FROM floor_audit"))
    assert kinds["task_created"] == kinds["task_completed"] == 46
    assert kinds["instance_started"] == kinds["instance_ended"] == 2
    assert 0 < kinds["task_claimed"] < 46  # tasks with camunda:assignee start claimed
    chain = rows("SELECT prev_hash, hash FROM floor_audit ORDER BY id")
    assert all(prev == before[1] for before, (prev, _) in zip(chain, chain[1:]))
    assert rows("SELECT hash FROM floor_audit_head") == [(chain[-1][1],)]

    # the saved rows alone give back the finished plan
    (plan_id, header), = rows("SELECT id, header FROM floor_plans ORDER BY id DESC LIMIT 1")
    tasks = cur.execute("SELECT task_id, workflow, position, body FROM floor_tasks WHERE plan_id = ? "
                        "ORDER BY position", (plan_id,)).fetchall()
    workflow = load_state(header, tasks, spec, subprocess_specs, script_engine())
    assert isinstance(workflow, BpmnWorkflow) and workflow.completed
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.manual]
    assert len(done) == 23
    floor.close()
