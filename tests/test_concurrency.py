"""Concurrent users on one task or one plan: a clear conflict, never a lost update."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from engine.commands import Engine
from engine.errors import Busy, Conflict, Forbidden
from engine.queries import list_tasks

from .conftest import FIXTURES, read
from .plan_helper import fired_ids


def pause_before_commit(monkeypatch, thread: str, seconds: float) -> threading.Event:
    """Makes a command run in the thread named `thread` hold its locks for `seconds` at its audit
    flush, just before it commits, so that another transaction meets them; the event is set when
    it gets there."""
    from engine import audit
    reached = threading.Event()
    original = audit.AuditLog.flush

    def flush(self, session):
        if threading.current_thread().name == thread:
            reached.set()
            time.sleep(seconds)
        return original(self, session)
    monkeypatch.setattr(audit.AuditLog, "flush", flush)
    return reached


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


def test_on_sqlite_a_write_transaction_holds_the_write_lock_from_its_start_and_a_read_does_not(sqlite_db):
    """models/db.py begins every write transaction with BEGIN IMMEDIATE and every read with a
    plain BEGIN, sent on the driver's connection: writers queue from the start of their
    transaction (before their first statement), readers never queue behind them."""
    other = sqlite3.connect(sqlite_db.url.split("///", 1)[1], isolation_level=None, timeout=0)
    with sqlite_db.transaction() as session:
        session.connection()  # the transaction has begun, no statement sent yet
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with sqlite_db.read_connection() as conn:
            assert conn.execute(text("SELECT last_seq FROM audit_head")).scalar() == 0
    with sqlite_db.read_connection() as conn:
        conn.execute(text("SELECT last_seq FROM audit_head")).scalar()
        other.execute("BEGIN IMMEDIATE")  # a reader holds no write lock
        other.execute("ROLLBACK")
    other.close()


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


def test_a_reminder_and_a_claim_on_one_task_never_deadlock(postgres_db, monkeypatch):
    """The timer worker stamps a task row (reminder) while a user claims it. Every command takes
    its row locks before the audit head lock, so one waits for the other instead of each holding
    what the other needs (PostgreSQL would abort one with a deadlock)."""
    from engine import audit
    from models import HumanTask

    from .conftest import add_people
    engine = Engine(postgres_db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    task = next(t for t in engine.start("parallel_review", actor="zhang")["tasks"] if t["element_id"] == "Task_Legal")

    claim_holds_task, worker_holds_head = threading.Event(), threading.Event()
    original = audit.AuditLog.flush

    def flush(self, session):  # hold the claim at its audit flush until the worker got the head
        if threading.current_thread().name == "claim":
            claim_holds_task.set()
            worker_holds_head.wait(3)
            return original(self, session)
        written = original(self, session)
        worker_holds_head.set()
        return written
    monkeypatch.setattr(audit.AuditLog, "flush", flush)
    outcome = {}

    def claim():
        try:
            outcome["claim"] = Engine(postgres_db).claim(task["id"], actor="li")
        except Exception as exc:  # collected for the assertion
            outcome["claim"] = exc

    def remind():
        claim_holds_task.wait(3)
        try:
            with Engine(postgres_db).command("system") as ctx:
                row = ctx.session.get(HumanTask, task["id"])
                row.reminded_at = ctx.now
                ctx.log.record("task_reminded", instance_id=row.instance_id, task_id=row.id)
            outcome["remind"] = "done"
        except Exception as exc:
            outcome["remind"] = exc
    threads = [threading.Thread(target=claim, name="claim"), threading.Thread(target=remind, name="worker")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert isinstance(outcome["claim"], dict) and outcome["claim"]["assignee"] == "li", outcome
    assert outcome["remind"] == "done" or isinstance(outcome["remind"], (Conflict, Busy)), outcome


def test_a_reminder_due_while_someone_acts_on_the_task_waits_and_fires(postgres_db, monkeypatch, at):
    """The worker reminds the holder of a task at the moment they hand it back (unclaim): the
    worker waits for the row and fires; it is neither a failure nor put off (PostgreSQL)."""
    from .conftest import add_people
    engine = Engine(postgres_db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_workdays.bpmn")])
    with at("2025-09-30T15:00:00"):
        plan = engine.start("deadline_workdays", actor="zhang", data={"days": 3})
    [task] = plan["tasks"]
    holding = pause_before_commit(monkeypatch, "user", 0.5)  # the unclaim holds its row lock
    outcome, failures = {}, []

    def unclaim():
        outcome["unclaim"] = Engine(postgres_db).unclaim(task["id"], actor="zhang")

    def fire():
        holding.wait(3)
        with at("2025-10-12T00:00:01"):
            outcome["fired"] = Engine(postgres_db).fire_due_timers(on_error=lambda *a: failures.append(a))
    threads = [threading.Thread(target=unclaim, name="user"), threading.Thread(target=fire, name="worker")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == [] and fired_ids(outcome["fired"]) == [{"instance_id": plan["id"], "timers": ["Event_Deadline"]}]
    assert outcome["unclaim"]["assignee"] is None
    [row] = [t for t in engine.instance(plan["id"])["tasks"] if t["id"] == task["id"]]
    assert row["reminded_at"] is not None and row["assignee"] is None


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_the_same_user_or_calendar_day_added_at_once_is_one_success_and_conflicts(request, database):
    """Each add checks first; when two check at the same moment, the database's unique key
    decides, and the loser gets a conflict, not "database not usable"."""
    from datetime import date

    from .conftest import add_people
    db = request.getfixturevalue(database)
    add_people(Engine(db))
    for attempt in range(3):  # a race is not certain on every try: each try must come out right
        users = run_together(*[lambda: Engine(db).add_user(f"dup{attempt}", "重复", groups=["legal"])] * 4)
        days = run_together(*[lambda: Engine(db).set_calendar_day(date(2031, 3, 1 + attempt), working=False, actor="chen")] * 4)
        assert sum(isinstance(r, dict) for r in users) == 1, users
        # the same day set twice is the same entry: who comes after the first may update it
        assert sum(isinstance(r, dict) for r in days) >= 1, days
        assert all(isinstance(r, (dict, Conflict, Busy)) for r in users + days), users + days


def test_completing_a_task_taken_away_meanwhile_is_a_conflict_not_a_refusal(engine, plan):
    """li claimed the task and is filling in the form; meanwhile the office gives it to legal0.
    li's submit lost a race (conflict: reload), which is not the same as never being allowed."""
    legal = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    engine.claim(legal["id"], actor="li")
    engine.assign(legal["id"], to="legal0", actor="chen", reassign=True)
    with pytest.raises(Conflict, match="（现由 legal0 办理）.*reassigned"):
        engine.complete(legal["id"], actor="li", data={"legalOpinion": "合法"})
    with pytest.raises(Forbidden):  # never held it: a plain refusal
        engine.complete(legal["id"], actor="legal1", data={"legalOpinion": "合法"})
    engine.unclaim(legal["id"], actor="chen")  # the office hands it back to the group
    with pytest.raises(Conflict, match="（现待候选人认领）"):  # was 现由 候选人 办理
        engine.complete(legal["id"], actor="legal0", data={"legalOpinion": "合法"})


def test_completing_a_task_one_handed_back_oneself_says_claim_it_first(engine, plan):
    """li handed the task back herself: no race was lost, so her submit is told to claim it
    first, not to reload; taken from her by the office afterwards, it is a lost race again."""
    legal = next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")
    engine.claim(legal["id"], actor="li")
    engine.unclaim(legal["id"], actor="li")
    with pytest.raises(Forbidden, match="请先认领"):
        engine.complete(legal["id"], actor="li", data={"legalOpinion": "合法"})
    engine.claim(legal["id"], actor="li")
    engine.assign(legal["id"], to="legal0", actor="chen", reassign=True)
    with pytest.raises(Conflict, match="reassigned"):
        engine.complete(legal["id"], actor="li", data={"legalOpinion": "合法"})


def test_a_holiday_entered_while_a_deadline_is_being_counted_reaches_it(postgres_db, monkeypatch, at):
    """A plan is being started (its first task's deadline, 3 working days, counted on a calendar
    without the bridging day Monday 4 January 2027) when the reform office enters that day off. The plan has no saved
    task yet, so only waiting for it lets the recount after the entry see it (PostgreSQL;
    SQLite runs one writer at a time)."""
    from datetime import date

    from .conftest import add_people
    engine = Engine(postgres_db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_workdays.bpmn")])
    counted = pause_before_commit(monkeypatch, "drafter", 0.5)  # the start has counted its deadline
    started = {}

    def start():
        with at("2026-12-30T09:00:00"):
            started["plan"] = Engine(postgres_db).start("deadline_workdays", actor="zhang", data={"days": 3})
    drafter = threading.Thread(target=start, name="drafter")
    drafter.start()
    assert counted.wait(5)
    office = Engine(postgres_db)
    with at("2026-12-30T09:05:00"):
        office.set_calendar_day(date(2027, 1, 4), working=False, actor="chen")
        office.recount_working_days(date(2027, 1, 4), actor="chen")
    drafter.join(10)
    # 31 Dec, (1 Jan off by law, 4 Jan entered,) 5 Jan, 6 Jan: the end of 6 January, not of 5 January
    assert engine.instance(started["plan"]["id"])["next_timer_at"] == "2027-01-06T16:00:00+00:00"


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_two_office_members_deactivating_each_other_at_once_leave_one(request, database):
    """Each may deactivate the other, but not both at once: the office would be left with nobody
    to manage users, the calendar or assignments. The office's group row orders them."""
    from .conftest import add_people
    db = request.getfixturevalue(database)
    add_people(Engine(db))
    for attempt in range(3):  # a race is not certain on every try: each try must come out right
        first, second = f"office{attempt}a", f"office{attempt}b"
        for name in (first, second):
            Engine(db).add_user(name, "改革办", groups=["reform_office"])
        for other in [u["username"] for u in Engine(db).users(group="reform_office")]:
            if other not in (first, second):  # chen, or the last try's survivor: these two are the office
                Engine(db).deactivate_user(other, actor=first)
        results = run_together(lambda: Engine(db).deactivate_user(second, actor=first),
                               lambda: Engine(db).deactivate_user(first, actor=second))
        assert sum(isinstance(r, dict) for r in results) == 1, results
        assert all(isinstance(r, (dict, Conflict, Busy, Forbidden)) for r in results), results
        active = [u["username"] for u in Engine(db).users(group="reform_office")]
        assert len(active) == 1 and active[0] in (first, second), active


def _acting_while_deactivated(db, monkeypatch, leaver: str, act):
    """chen deactivates `leaver`; while that transaction, its tasks already handed back, is about
    to commit, `act` runs (a claim, an assignment or a completion that would make `leaver` a
    holder or act as them). Returns what `act` returned or raised, and the deactivation's result."""

    deciding = pause_before_commit(monkeypatch, "office", 0.7)  # the deactivation holds its locks
    outcome = {}

    def deactivate():
        outcome["deactivated"] = Engine(db).deactivate_user(leaver, actor="chen")
    office = threading.Thread(target=deactivate, name="office")
    office.start()
    assert deciding.wait(10)
    try:
        outcome["act"] = act(Engine(db))
    except Exception as exc:  # collected for the assertions
        outcome["act"] = exc
    office.join(30)
    return outcome["act"], outcome["deactivated"]


def _legal_review_for_legal0(db):
    """The people, a parallel_review plan started by zhang, and its open legal review, which
    legal0 (法制0, group legal) may take: the engine, the plan and the task."""
    from .conftest import add_people
    engine = Engine(db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    engine.add_user("legal0", "法制0", groups=["legal"])
    plan = engine.start("parallel_review", actor="zhang")
    return engine, plan, next(t for t in plan["tasks"] if t["element_id"] == "Task_Legal")


def _holders(engine, instance_id: int) -> list:
    return [t["assignee"] for t in engine.instance(instance_id)["tasks"]]


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
@pytest.mark.parametrize("action", ["claim", "assign"])
def test_a_leaver_is_not_made_a_holder_while_being_deactivated(request, monkeypatch, database, action):
    """legal0 leaves. A claim of theirs, or the office assigning them a task, that read them as
    active just before the deactivation committed used to commit after it: a deactivated user
    held a task nobody had handed back. Now the one waits for the other (users are locked
    before tasks) and sees that they have left."""
    db = request.getfixturevalue(database)
    engine, plan, legal = _legal_review_for_legal0(db)
    act = {"claim": lambda e: e.claim(legal["id"], actor="legal0"),
           "assign": lambda e: e.assign(legal["id"], to="legal0", actor="chen")}[action]
    acted, deactivated = _acting_while_deactivated(db, monkeypatch, "legal0", act)
    assert isinstance(acted, Forbidden) and "不存在或已停用" in str(acted), acted
    assert deactivated["active"] is False
    assert "legal0" not in _holders(engine, plan["id"])


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_leaver_cannot_complete_a_task_while_being_deactivated(request, monkeypatch, database):
    """wang holds a task only he could do (`${starter}`, no candidates): his deactivation leaves
    it with him, for the office to assign. His submit, begun before the deactivation committed,
    used to go through afterwards, a deactivated user completing a step; now it is refused."""
    from .conftest import add_people
    db = request.getfixturevalue(database)
    engine = Engine(db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "corpus" / "initiator.bpmn")])
    own = engine.start("corpus_initiator", actor="wang")["tasks"][0]
    acted, deactivated = _acting_while_deactivated(db, monkeypatch, "wang", lambda e: e.complete(own["id"], actor="wang"))
    assert isinstance(acted, Forbidden) and "不存在或已停用" in str(acted), acted
    assert [t["id"] for t in deactivated["to_assign"]] == [own["id"]]
    [task] = engine.instance(own["instance_id"])["tasks"]
    assert (task["id"], task["status"], task["assignee"]) == (own["id"], "claimed", "wang")


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_claim_just_before_a_deactivation_is_handed_back_by_it(request, monkeypatch, database):
    """The other order: legal0's claim is about to commit when the office deactivates legal0.
    The deactivation waits for it and hands the task back with the others it finds."""
    db = request.getfixturevalue(database)
    engine, plan, legal = _legal_review_for_legal0(db)
    claiming = pause_before_commit(monkeypatch, "leaver", 0.7)  # the claim holds its locks
    claimed = {}
    leaver = threading.Thread(target=lambda: claimed.update(task=Engine(db).claim(legal["id"], actor="legal0")),
                              name="leaver")
    leaver.start()
    assert claiming.wait(10)
    left = Engine(db).deactivate_user("legal0", actor="chen")
    leaver.join(30)
    assert claimed["task"]["assignee"] == "legal0"
    assert [t["id"] for t in left["returned"]] == [legal["id"]]
    assert "legal0" not in _holders(engine, plan["id"])


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_leaver_cannot_start_a_plan_whose_first_step_is_theirs_while_being_deactivated(request, monkeypatch, database):
    """wang starts a plan whose first step is his (`${starter}`) as he is being deactivated: the
    start used to read him as active and leave the new plan's step with a deactivated user."""
    from .conftest import add_people
    db = request.getfixturevalue(database)
    engine = Engine(db)
    add_people(engine)
    engine.deploy([read(FIXTURES / "corpus" / "initiator.bpmn")])
    acted, _ = _acting_while_deactivated(db, monkeypatch, "wang", lambda e: e.start("corpus_initiator", actor="wang"))
    assert isinstance(acted, Forbidden) and "不存在或已停用" in str(acted), acted
    with engine.db.reader() as s:
        assert list_tasks(s, "chen", "all") == []


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_round_of_reports_started_while_a_reporter_is_being_deactivated_is_refused(request, monkeypatch, database):
    """The office starts a round of reports naming wang as a body's reporter while another
    office member's deactivation of wang is about to commit. The start read wang as active
    (reporting_bodies.check, runtime's check of new tasks' assignees), made his report task and
    committed after the deactivation, which had not seen it: a leaver held a report nobody had
    handed back or listed to assign. Now the start waits for the deactivation and refuses."""
    from .conftest import BPMN, add_people
    db = request.getfixturevalue(database)
    engine = Engine(db)
    add_people(engine)
    engine.add_user("chen2", "改革办二", groups=["reform_office"])
    engine.deploy([read(BPMN / "work_report.bpmn")])
    bodies = [{"unit": "市财政局", "user": "zhang"}, {"unit": "市政府办公厅", "user": "wang"}]
    acted, deactivated = _acting_while_deactivated(
        db, monkeypatch, "wang", lambda e: e.start("work_report", actor="chen2", data={"reporters": bodies}))
    assert deactivated["active"] is False
    assert isinstance(acted, Exception) and "wang 不存在或已停用" in str(acted), acted
    with engine.db.reader() as s:
        assert [t for t in list_tasks(s, "chen", "all") if t["assignee"] == "wang"] == []


@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
def test_a_step_a_completion_gives_to_someone_being_deactivated_opens_for_their_group(request, monkeypatch, database):
    """The office sends a plan back to its drafter (`${initiator}`, group drafter) while another
    office member's deactivation of that drafter is about to commit. The completion read the
    drafter as active, gave them the new step and committed after the deactivation, which had
    not seen it: a leaver held a step nobody had handed back. Now it waits, sees they have left
    and opens the step for their group, as it does for anyone deactivated earlier."""
    from .conftest import add_people
    db = request.getfixturevalue(database)
    engine = Engine(db)
    add_people(engine)
    engine.add_user("chen2", "改革办二", groups=["reform_office"])
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    [draft] = engine.start("mini_approval", actor="zhang")["tasks"]  # ${initiator}, group drafter
    engine.complete(draft["id"], actor="zhang", data={"summary": "方案"})
    [review] = [t for t in engine.instance(draft["instance_id"])["tasks"] if t["element_id"] == "Task_Review"]
    engine.claim(review["id"], actor="chen2")
    back = {"decision": "return", "returnReason": "请补充测算"}
    acted, deactivated = _acting_while_deactivated(db, monkeypatch, "zhang",
                                                   lambda e: e.complete(review["id"], actor="chen2", data=back))
    assert deactivated["active"] is False and not isinstance(acted, Exception), acted
    [step] = [t for t in engine.instance(review["instance_id"])["tasks"] if t["element_id"] == "Task_Draft"]
    assert (step["status"], step["assignee"]) == ("open", None), step


def test_a_step_opened_while_someone_moves_its_plan_into_a_called_process_shows_it_as_it_was(library):
    """A read sees one snapshot. Opening a step reads its plan's workflow, then the workflow's
    task rows, without the plan's lock; on PostgreSQL (READ COMMITTED) a completion committed
    between the two, opening the legality review's called process, gave rows of a subprocess
    the workflow did not have: a KeyError, a 500 on the step's page (seen under load)."""
    from sqlalchemy import event

    from .plan_helper import Plan
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    review = plan.task("Task_SpecialGroupReview")
    moved = []

    def meanwhile(conn, cursor, statement, *_):
        if "FROM instance_tasks" in statement and not moved:
            moved.append(review["id"])  # once: the completion's own statements pass by here too
            plan.do("Task_SpecialGroupReview", review)  # another person, another transaction
    event.listen(library.db.read_engine, "before_cursor_execute", meanwhile)
    try:
        page = library.task_view(review["id"])
    finally:
        event.remove(library.db.read_engine, "before_cursor_execute", meanwhile)
    assert moved, "the completion did not happen between the reads"
    assert page["element_id"] == "Task_SpecialGroupReview" and page["status"] != "completed"  # as it was
    assert plan.active == ["Task_CheckMaterials"]  # and the completion is kept: the legality review began


def test_a_writer_that_waited_for_the_audit_head_chains_on_the_event_just_committed(postgres_db, monkeypatch):
    """On PostgreSQL the head, locked after waiting for another writer, is read as that writer left
    it, but the event it names was joined from the statement's snapshot, older than that commit:
    the head looked past the trail and an ordinary action was refused as tampering (found under
    load: 30 of 600 actions of two processes)."""
    from engine import audit
    from engine.audit import verify

    from .conftest import add_people
    first, second = Engine(postgres_db), Engine(postgres_db)  # two workers: neither knows the other's tip
    add_people(first)
    first.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    holds_head = threading.Event()
    original = audit.AuditLog.flush

    def flush(self, session):  # the first holds the head, its event written, for a while
        written = original(self, session)
        if threading.current_thread().name == "first":
            holds_head.set()
            time.sleep(1)
        return written
    monkeypatch.setattr(audit.AuditLog, "flush", flush)
    started = {}
    thread = threading.Thread(name="first", target=lambda: started.update(first=first.start("mini_approval", actor="zhang")))
    thread.start()
    assert holds_head.wait(10)
    started["second"] = second.start("mini_approval", actor="zhang")  # waits for the head, then chains on
    thread.join(10)
    assert started["first"]["id"] != started["second"]["id"]
    with postgres_db.reader() as s:
        assert verify(s).ok
