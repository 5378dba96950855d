"""The floor under the persisted engine: the same lifecycle, with the least that any engine
keeping issue 2's promises must do per action, written straight through the database driver
(sqlite3, or psycopg for PostgreSQL): no SQLAlchemy, no permission checks, no candidate rows,
no variables column, no conflict messages, the workflow never reloaded (as the engine's cache
would have it).

What it keeps, because the rules need it: one transaction per action (SQLite: BEGIN IMMEDIATE
... COMMIT, WAL, synchronous=NORMAL as models/db.py sets it; PostgreSQL: the plan row locked);
the changed workflow tasks saved (engine.state.dump_changes, the engine's own incremental
serializer) with the plan's header and version; an inbox row per ready user task, claimed and
completed by version-checked UPDATEs; one hash-chained audit row per event (task created,
claimed, completed, plan started and ended) and the chain's head moved in the database, since
several workers share it; a read of the plan and its open inbox rows before each step, as a
person's page does.

bench/engine.py --floor runs it alongside the other two sides, on the same database, and
prints `floor/bare ratio`: if the floor itself is at or above 2.0, no engine built this way
reaches issue 2's target.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import forms
from engine.drive import answer_for
from engine.scripting import script_engine
from engine.state import dump_changes
from engine.walk import engine_steps, every_task

# Tables of their own (floor_...), so that the floor can share a PostgreSQL database with the
# engine's tables; {id} is each database's auto-numbered key.
TABLES = ("floor_plans", "floor_tasks", "floor_inbox", "floor_audit", "floor_audit_head")
SCHEMA = """
CREATE TABLE floor_plans (id {id}, version INTEGER NOT NULL, status TEXT NOT NULL, header TEXT NOT NULL);
CREATE TABLE floor_tasks (plan_id INTEGER NOT NULL, task_id TEXT NOT NULL, workflow TEXT NOT NULL,
                          position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (plan_id, task_id));
CREATE TABLE floor_inbox (id {id}, plan_id INTEGER NOT NULL, spiff_task_id TEXT NOT NULL,
                          element_id TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT,
                          version INTEGER NOT NULL);
CREATE INDEX floor_inbox_plan ON floor_inbox (plan_id, status);
CREATE TABLE floor_audit (id {id}, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE floor_audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL);
INSERT INTO floor_audit_head VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000');
"""
_UPSERT = ("INSERT INTO floor_tasks (plan_id, task_id, workflow, position, body) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT (plan_id, task_id) DO UPDATE SET body = excluded.body")


class _SQLite:
    """sqlite3 as models/db.py sets it up: WAL, synchronous=NORMAL, BEGIN IMMEDIATE per write."""
    begin_write = "BEGIN IMMEDIATE"
    lock_plan = ""

    def __init__(self, path: str):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for table in TABLES:
            self.db.execute(f"DROP TABLE IF EXISTS {table}")
        self.db.executescript(SCHEMA.format(id="INTEGER PRIMARY KEY"))

    def cursor(self):
        return self.db.cursor()


class _PostgreSQL:
    """psycopg 3 in autocommit mode, transactions begun and ended by hand as above; rows the
    engine would lock (the plan) are locked with FOR UPDATE."""
    begin_write = "BEGIN"
    lock_plan = " FOR UPDATE"

    def __init__(self, url: str):
        import psycopg
        self.db = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        self.db.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
        self.db.execute(SCHEMA.format(id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))

    def cursor(self):
        return _QmarkCursor(self.db.cursor())


class _QmarkCursor:
    """The statements above are written with SQLite's ? placeholders; psycopg wants %s."""

    def __init__(self, cursor):
        self.cursor = cursor

    def execute(self, sql: str, params=()):
        return self.cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows):
        return self.cursor.executemany(sql.replace("?", "%s"), rows)

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()


class Floor:
    """One database connection and the audit chain's head, kept in memory between actions.
    `where`: a SQLite file's path or a PostgreSQL URL."""

    def __init__(self, where: str, spec, subprocess_specs: dict, settings: dict, start: dict, answers: dict):
        self.database = _PostgreSQL(where) if where.startswith("postgresql") else _SQLite(where)
        self.spec, self.subprocess_specs = spec, subprocess_specs
        self.settings, self.start_data, self.answers = settings, start, answers
        self.head = "0" * 64

    def close(self) -> None:
        self.database.db.close()

    # ---------------------------------------------------------------- one plan
    def lifecycle(self) -> int:
        plan_id, workflow = self._start()
        done: dict[str, int] = {}
        while True:
            status, rows = self._read(plan_id)
            if status != "running" or not rows:
                return sum(done.values())
            row_id, spiff_id, element, row_status, version = rows[0]
            if row_status == "open":
                version = self._claim(row_id, version)
            self._complete(plan_id, workflow, row_id, spiff_id, version,
                           answer_for(self.answers, {"element_id": element}, done.get(element, 0)))
            done[element] = done.get(element, 0) + 1

    def _start(self):
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=script_engine())
        with self._transaction() as (cur, events):
            plan_id = cur.execute("INSERT INTO floor_plans (version, status, header) "
                                  "VALUES (0, 'running', '') RETURNING id").fetchone()[0]
            workflow.get_next_task(state=TaskState.READY).data.update(
                {**self.start_data, **self.settings, "initiator": "zhang", "title": "bench", "businessKey": None})
            engine_steps(workflow)
            events.append({"event": "instance_started", "instance": plan_id})
            self._save(cur, events, plan_id, 0, workflow)
        return plan_id, workflow

    def _read(self, plan_id: int):
        cur = self.database.cursor()
        cur.execute("BEGIN")
        status = cur.execute("SELECT status FROM floor_plans WHERE id = ?", (plan_id,)).fetchone()[0]
        rows = cur.execute("SELECT id, spiff_task_id, element_id, status, version FROM floor_inbox "
                           "WHERE plan_id = ? AND status IN ('open', 'claimed') ORDER BY id", (plan_id,)).fetchall()
        cur.execute("COMMIT")
        return status, rows

    def _claim(self, row_id: int, version: int) -> int:
        with self._transaction() as (cur, events):
            cur.execute("UPDATE floor_inbox SET status = 'claimed', assignee = 'bench', version = version + 1 "
                        "WHERE id = ? AND version = ?", (row_id, version))
            assert cur.rowcount == 1
            events.append({"event": "task_claimed", "task": row_id, "assignee": "bench"})
        return version + 1

    def _complete(self, plan_id, workflow, row_id, spiff_id, version, answer) -> None:
        with self._transaction() as (cur, events):
            plan_version = cur.execute("SELECT version FROM floor_plans WHERE id = ?" + self.database.lock_plan,
                                       (plan_id,)).fetchone()[0]
            task = workflow.get_task_from_id(UUID(spiff_id))
            values = forms.validate(forms.describe(task.task_spec.form), answer, task.data)
            cur.execute("UPDATE floor_inbox SET status = 'completed', version = version + 1 WHERE id = ? AND version = ?",
                        (row_id, version))
            assert cur.rowcount == 1
            events.append({"event": "task_completed", "task": row_id, "new": values})
            task.data.update(values)
            task.run()
            engine_steps(workflow)
            self._save(cur, events, plan_id, plan_version, workflow)

    # ---------------------------------------------------------------- shared
    def _save(self, cur, events, plan_id: int, version: int, workflow: BpmnWorkflow) -> None:
        changes = dump_changes(workflow)
        status = "completed" if workflow.completed else "running"
        cur.execute("UPDATE floor_plans SET header = ?, status = ?, version = ? WHERE id = ? AND version = ?",
                    (changes.header, status, version + 1, plan_id, version))
        assert cur.rowcount == 1
        cur.executemany(_UPSERT, [(plan_id, r["task_id"], r["workflow"], r["position"], r["body"])
                                  for r in changes.upserts])
        cur.executemany("DELETE FROM floor_tasks WHERE plan_id = ? AND task_id = ?",
                        [(plan_id, task_id) for task_id in changes.deletes])
        known = {row[0] for row in cur.execute(
            "SELECT spiff_task_id FROM floor_inbox WHERE plan_id = ? AND status IN ('open', 'claimed')",
            (plan_id,)).fetchall()}
        for task in every_task(workflow):
            if task.state != TaskState.READY or not task.task_spec.manual or str(task.id) in known:
                continue  # not a ready user task, or its inbox row exists
            # a task with camunda:assignee is claimed from the start, as in the engine
            status = "claimed" if (task.task_spec.extensions or {}).get("camunda:assignee") else "open"
            row_id = cur.execute("INSERT INTO floor_inbox (plan_id, spiff_task_id, element_id, status, version) "
                                 "VALUES (?, ?, ?, ?, 1) RETURNING id",
                                 (plan_id, str(task.id), task.task_spec.bpmn_id, status)).fetchone()[0]
            events.append({"event": "task_created", "task": row_id, "element": task.task_spec.bpmn_id})
        if workflow.completed:
            events.append({"event": "instance_ended", "instance": plan_id})

    def _transaction(self):
        return _Transaction(self)


class _Transaction:
    """BEGIN IMMEDIATE; the caller's statements; its events appended to the hash chain; COMMIT."""

    def __init__(self, floor: Floor):
        self.floor = floor

    def __enter__(self):
        self.cur = self.floor.database.cursor()
        self.cur.execute(self.floor.database.begin_write)
        self.events: list[dict] = []
        return self.cur, self.events

    def __exit__(self, kind, *_):
        if kind is not None:
            self.cur.execute("ROLLBACK")
            return False
        rows, head = [], self.floor.head
        for event in self.events:
            body = json.dumps(event, ensure_ascii=False, sort_keys=True, default=str)
            digest = hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()
            rows.append((head, digest, body))
            head = digest
        self.cur.executemany("INSERT INTO floor_audit (prev_hash, hash, body) VALUES (?, ?, ?)", rows)
        # several workers share the chain: move its head by compare-and-set, as engine/audit.py does
        self.cur.execute("UPDATE floor_audit_head SET hash = ? WHERE id = 1 AND hash = ?", (head, self.floor.head))
        assert self.cur.rowcount == 1
        self.cur.execute("COMMIT")
        self.floor.head = head
        return False
