"""Queries that must not grow with the years: a page's or a command's statements reach the rows
they need by an index, and their number does not follow the number of rows (users, plans).
The figures measured on two years of a province's data are in docs/performance.md."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.engine import Engine as SAEngine

from engine import ledger, supervision

from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database
from models.process import ProcessDefinition, ProcessInstance


def _statement(db, run) -> tuple[str, dict]:
    """The last statement `run(conn)` sends, with its parameters."""
    sent = []

    def keep(_conn, _cursor, statement, parameters, *_):
        sent.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with db.engine.connect() as conn:
            run(conn)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return sent[-1]


def test_a_step_s_events_of_a_kind_have_an_index(db):
    indexes = {tuple(i["column_names"]) for i in inspect(db.engine).get_indexes("audit_events")}
    assert ("task_id", "event_type") in indexes


def test_the_completions_of_the_supervision_ledger_are_read_by_plan_without_statistics(postgres_db):
    """PostgreSQL right after a restore or an upgrade (no ANALYZE yet): the supervision ledger's
    and the bulletin's completed steps are found through their plans' events, not by going
    through every `task_completed` event once per plan (1.4 s with 40,000 events)."""
    conditions = [ProcessDefinition.key == supervision.PROCESS, ProcessInstance.status == "running"]
    statement, parameters = _statement(postgres_db, lambda conn: ledger.completions(conn, conditions,
                                                                                     supervision.STEPS))
    with postgres_db.engine.connect() as conn:
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
    assert "ix_audit_events_instance_id" in plan or "ix_audit_events_task_id_type" in plan, plan


def _counted(db, action) -> list[str]:
    sent = []

    def keep(_conn, _cursor, statement, *_):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(statement)
    for sa_engine in {db.engine, db.read_engine}:
        event.listen(sa_engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        for sa_engine in {db.engine, db.read_engine}:
            event.remove(sa_engine, "before_cursor_execute", keep)
    return sent


def test_the_migration_preview_looks_up_the_versions_once_whatever_the_number_of_plans(library):
    """方案迁移 of every plan on an old version: each plan costs the reading of its own state and
    steps, not another look-up of the latest versions of its process and of those it calls, nor
    of its line (454 statements for 40 plans, 151 of them on process_definitions)."""
    from .plan_helper import Plan
    from .test_migration import REFORM_PLAN_V2
    plans = [Plan(library, title=f"方案{n}") for n in range(5)]
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])
    library.migration_candidates("reform_plan")  # the target's specs parsed, as a running server has them
    five = _counted(library.db, lambda: library.migration_candidates("reform_plan"))
    for plan in plans[2:]:
        library.cancel_plan(plan.id, reason="重复发起", actor="chen")
    found = library.migration_candidates("reform_plan")
    assert [p["instance_id"] for p in found["plans"]] == [p.id for p in plans[:2]]
    assert [p["definition_version"] for p in found["plans"]] == [1, 1] and found["to_version"] == 2
    two = _counted(library.db, lambda: library.migration_candidates("reform_plan"))
    assert len(_definitions(five)) == len(_definitions(two))
    assert len(five) - len(two) <= 3 * PER_PLAN, (len(two), len(five))


def _definitions(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM process_definitions" in s and "process_instances" not in s]


# what each plan of the migration preview reads: the plan, its state and its tasks' rows, its
# open steps and the steps it passed
PER_PLAN = 6


def _all_statements(action) -> list[str]:
    """Every statement any database engine sends while `action` runs (a command opens its own)."""
    sent = []

    def keep(_conn, _cursor, statement, *_):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(statement)
    event.listen(SAEngine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(SAEngine, "before_cursor_execute", keep)
    return sent


def _add_people(engine, first: int, last: int) -> None:
    """Users n of their own unit each, in two groups."""
    for n in range(first, last):
        engine.add_user(f"user{n:03d}", f"用户{n}", groups=["drafter", "legal"], unit=f"单位{n}")


def test_the_people_page_and_users_list_do_not_grow_with_the_number_of_people(engine):
    """人员 and `reformflow users list` read the users with their units and groups: 214 users cost
    290 statements when each one's unit and groups were read on their own."""
    from click.testing import CliRunner

    from engine.cli import main
    from engine.demo import PASSWORD

    from .web_helper import signed_in_client
    for code in ("drafter", "legal", "reform_office"):
        engine.add_group(code, code)
    engine.add_user("chen", "陈静", groups=["reform_office"], password=PASSWORD)
    _add_people(engine, 0, 2)
    client = signed_in_client(engine, "chen")

    def page():
        assert client.get("/people").status_code == 200

    def listed():
        result = CliRunner().invoke(main, ["--db", engine.db.url, "users", "list"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    page()
    few = (len(_all_statements(page)), len(_all_statements(listed)))
    _add_people(engine, 2, 30)
    many = (len(_all_statements(page)), len(_all_statements(listed)))
    assert many == few
    assert [(u["username"], u["unit"], u["groups"]) for u in engine.users()][-2:] == [
        ("user028", "单位28", ["drafter", "legal"]), ("user029", "单位29", ["drafter", "legal"])]


REGISTER = {"leadUnit": "市财政局", "responsiblePerson": "张伟", "plannedCompletion": "2027-06-30"}


@pytest.fixture
def steps(library, at):
    """A plan whose legality review was done four days late (yellow), one waiting at it past its
    deadline (red), one on time at its research, one at its filing."""
    from .plan_helper import Plan
    with at("2026-12-18T09:00:00"):
        done_late, late = Plan(library), Plan(library, title="推进用地管理改革方案")
        for plan in (done_late, late):
            plan.run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
        on_time = Plan(library, title="深化科技体制改革方案", starter="chen")  # the office: another unit's
        on_time.run_until("Task_Research", Task_RegisterPlan={**REGISTER, "leadUnit": "市科技局"})
        filing = Plan(library, title="优化营商环境改革方案", starter="chen")
        filing.run_until("Task_FileDocument", Task_RegisterPlan={**REGISTER, "leadUnit": "市国土局"})
    with at("2027-01-12T09:00:00"):
        done_late.do("Task_LegalityReview")
    return done_late, late, on_time, filing


def test_the_ledger_reads_only_the_steps_that_tell_and_its_rows_stay_the_same(library, steps, at):
    """The year's ledger (and the overview from it) read every step of every plan: 9,351 rows for
    a province's year, most of them done on time and shown nowhere. It reads the open ones, the
    late ones and those whose deadline changed; every row is as it was from all of them."""
    from engine import clock
    from engine.ledger import mark_provisional, names_of, plans_and_tasks, rows_of, year_conditions
    with at("2027-01-13T09:00:00"), library.db.reader() as session:
        conn = session.connection()
        plans, every = plans_and_tasks(conn, year_conditions(2027))
        _, telling = plans_and_tasks(conn, year_conditions(2027), telling=())
        expected = mark_provisional(conn, rows_of(plans, every, clock.now(), names_of(conn), year=2027))
        rows = library.ledger(year=2027)
    assert rows == expected
    assert sorted(r["colour"] for r in rows) == ["green", "green", "red", "yellow"]
    assert sum(map(len, telling.values())) < sum(map(len, every.values()))
    assert {t.id for ts in telling.values() for t in ts} == {
        t.id for ts in every.values() for t in ts if t.status in ("open", "claimed")
        or (t.completed_at is not None and t.due_at is not None and t.completed_at > t.due_at)}


def test_the_overview_reads_its_plans_their_steps_and_the_users_once(library, steps, at):
    """工作台 read the year's plans and steps for its ledger, then the plans in implementation and
    their steps again for the supervision figures, the users twice and the filing steps apart."""
    with at("2027-01-13T09:00:00"):
        library.overview("chen")
        sent = _counted(library.db, lambda: library.overview("chen"))
        view = library.overview("chen")
    assert len([s for s in sent if s.startswith("SELECT process_instances.id, process_instances.business_key")]) == 1
    assert len([s for s in sent if s.startswith("SELECT human_tasks.") and "count(" not in s]) == 1
    assert len([s for s in sent if s.startswith("SELECT users.username, users.display_name")]) == 1
    assert view["ledger"] == {"plans": 4, "red": 1, "yellow": 1, "green": 2, "carried_over": 4}
    assert view["filings"]["due_soon"] == 1 and view["overdue"]["count"] == 1


def _workflow(tasks: int, sub_tasks: int = 0):
    """What the workflow cache weighs a workflow by: its tasks and its subprocesses'."""
    from types import SimpleNamespace
    return SimpleNamespace(tasks=dict.fromkeys(range(tasks)),
                           subprocesses={"sub": SimpleNamespace(tasks=dict.fromkeys(range(sub_tasks)))})


def test_the_workflow_cache_holds_a_bounded_number_of_plans_and_of_tasks():
    """256 plans of ~1.7 MB each held ~450 MB in each process: the cache holds at most `size`
    plans and `tasks` tasks, the least recently used going first."""
    from engine.runtime import WorkflowCache
    cache = WorkflowCache(size=3, tasks=1000)
    for plan in range(1, 5):
        cache.put(plan, 1, _workflow(100))
    assert len(cache) == 3 and cache.take(1, 1) is None and cache.take(2, 1) is not None
    cache = WorkflowCache(size=10, tasks=1000)
    for plan in range(1, 5):
        cache.put(plan, 1, _workflow(200, 100))  # 300 tasks each: three fit in 1,000
    assert len(cache) == 3 and cache.held_tasks == 900 and not cache.holds(1)
    cache.put(5, 1, _workflow(2000))  # more than the whole cache: not kept, nothing pushed out
    assert not cache.holds(5) and len(cache) == 3
    taken = cache.take(3, 1)
    assert taken is not None and cache.held_tasks == 600
    cache.put(3, 2, taken)
    cache.put(6, 1, _workflow(300))  # the least recently used (2: 3 was taken and put back) goes first
    assert [p for p in range(1, 7) if cache.holds(p)] == [3, 4, 6] and cache.held_tasks == 900
    assert WorkflowCache().size <= 64


def test_the_timers_keep_the_workflow_cache_for_the_plans_people_work_on(engine, people, at):
    """A timer pass through a backlog (the worker was down, say) loaded each plan into the
    workflow cache and kept it there: 176 MB after 100 plans. A plan the cache held stays in it,
    its timer fired; the others are not added."""
    from engine.runtime import WorkflowCache

    from .conftest import FIXTURES, read
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_months.bpmn")])
    with at("2026-01-31T10:00:00"):
        plans = [engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})["id"] for _ in range(3)]
        engine.workflows = WorkflowCache()  # a worker that has not seen them
        plans.append(engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})["id"])
    assert [p for p in plans if p in engine.workflows._entries] == [plans[3]]
    with at("2026-03-05T09:00:00"):
        fired = engine.fire_due_timers(batch=2)
    assert sorted(f["instance_id"] for f in fired) == plans
    assert [p for p in plans if p in engine.workflows._entries] == [plans[3]]
    assert [t["element_id"] for t in engine.instance(plans[3])["tasks"]] == ["Task_Escalate"]
    assert [t["element_id"] for t in engine.instance(plans[0])["tasks"]] == ["Task_Escalate"]


def test_the_digest_s_lists_are_each_person_s_inbox_lists(demo_engine):
    """The daily digest reads everyone's 我的待办 and 可认领 at once (queries.open_lists): the same
    rows as list_tasks gives each person, with steps kept to a lead unit, named candidates, steps
    someone claimed, colleagues acting for someone away (for one or two people) and a leaver."""
    from engine import clock
    from engine.queries import list_tasks, open_lists
    engine = demo_engine
    today = clock.today()
    for principal, delegate in (("zhang", "wang"), ("li", "zhou"), ("song", "zhou"), ("chen", "zhao")):
        engine.delegate(principal, to=delegate, starts_on=today, ends_on=today, reason="出差", actor="chen")
    with engine.db.reader() as session:
        open_steps = list_tasks(session, "chen", "all")
    kept = next(t for t in open_steps if t["assignee"] == "zhang" and t["candidate_unit"] == "市财政局")
    engine.unclaim(kept["id"], actor="zhang")  # open again, to 市财政局's drafters only
    legal = next(t for t in open_steps if t["candidate_groups"] == ["legal"])
    engine.claim(legal["id"], actor="li")
    engine.deactivate_user("ma", actor="chen")
    usernames = [u["username"] for u in engine.users(include_inactive=True)] + ["nobody"]
    with engine.db.reader() as session:
        lists = open_lists(session, usernames, clock.now())
        for username in usernames:
            if username in ("ma", "nobody"):
                assert lists[username] == ([], [])
                continue
            expected = (list_tasks(session, username, "mine"), list_tasks(session, username, "claimable"))
            assert lists[username] == expected, username
    assert {row["on_behalf_of"] for row in lists["zhou"][0]} == {"li", "song"}
    assert [(row["id"], row["on_behalf_of"], row["may_claim"]) for row in lists["wang"][1]] == [(kept["id"], "zhang", True)]
    assert lists["zhang"][1] == [{**lists["wang"][1][0], "on_behalf_of": None}]
    assert {row["on_behalf_of"] for row in lists["zhao"][1]} == {"chen"}


def test_the_daily_digest_does_not_grow_with_the_number_of_people(engine, people, at, monkeypatch):
    """每日待办摘要 read each person's two inbox lists on their own: 1,718 statements for 214
    people. With 3 people asking and with 30, the same statements."""
    from engine import mail_digest

    from .conftest import FIXTURES
    monkeypatch.delenv("REFORMFLOW_DIGEST_TIME", raising=False)
    engine.deploy([read_mini(FIXTURES)])
    with at("2026-11-23T10:00"):
        plan = engine.start("mini_approval", actor="zhang", title="方案")
        draft = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
        engine.complete(draft["id"], actor="zhang", data={"summary": "概要"})

    def asking(first: int, last: int) -> None:
        for n in range(first, last):
            engine.add_user(f"legal{n:02d}", f"法制{n}", groups=["legal"], email=f"legal{n:02d}@example.gov.cn")
            engine.update_user(f"legal{n:02d}", actor="chen", digest=True)
    asking(0, 3)
    with at("2026-12-07T09:00"):
        few = _all_statements(lambda: mail_digest.queue_due(engine.db))
    asking(3, 30)
    with at("2026-12-08T09:00"):
        many = _all_statements(lambda: mail_digest.queue_due(engine.db))
    assert len(many) == len(few)
    with engine.db.reader() as session:
        from models import MailMessage
        sent = session.execute(select(MailMessage.digest_on, func.count()).where(MailMessage.kind == "digest")
                               .group_by(MailMessage.digest_on).order_by(MailMessage.digest_on)).all()
    assert [n for _, n in sent] == [3, 30]


def read_mini(fixtures):
    path = fixtures / "diagrams" / "mini_approval.bpmn"
    return path.name, path.read_bytes()


def test_the_done_list_on_the_command_line_shows_the_latest_50_and_says_how_to_see_the_rest(cli, sqlite_db):  # noqa: F811
    """`tasks --scope done` printed every step someone ever completed: 766 lines for a drafter of
    two years. The latest 50, a line saying how many more and how to list them; --limit 0: all."""
    from engine.commands import Engine

    from .conftest import FIXTURES
    engine = Engine(sqlite_db)
    engine.deploy([read_mini(FIXTURES)])
    for n in range(52):
        plan = engine.start("mini_approval", actor="zhang", title=f"方案{n}")
        draft = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
        engine.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    engine.db.dispose()

    def listed(*args) -> list[str]:
        return [line for line in cli("tasks", "--as", "zhang", "--scope", "done", *args).stdout.splitlines()
                if "(Task_Draft)" in line]
    lines = cli("tasks", "--as", "zhang", "--scope", "done").stdout.splitlines()
    assert len([line for line in lines if "(Task_Draft)" in line]) == 50 and "方案51" in lines[0]
    assert lines[-1].startswith("……另有 2 项未列出，共 52 项；--limit 0 列出全部") and "2 more not listed" in lines[-1]
    assert len(listed("--limit", "0")) == 52 and len(listed("--limit", "60")) == 52
    assert len(listed("--limit", "3")) == 3
    shown = as_json(cli("tasks", "--as", "zhang", "--scope", "done", "--limit", "2", "--json"))
    assert [t["plan_title"] for t in shown["tasks"]] == ["方案51", "方案50"] and shown["total"] == 52
    assert "未列出" not in cli("tasks", "--as", "zhang", "--scope", "done", "--limit", "0").stdout
    everything = as_json(cli("tasks", "--as", "zhang", "--scope", "done", "--json"))  # a script: all by default
    assert len(everything["tasks"]) == everything["total"] == 52
