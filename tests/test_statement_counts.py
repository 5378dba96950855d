"""How many SQL statements each user action costs. Counts, not timings: they do not depend on
the machine, and a query slipped into a loop (one per task, one per audit event) shows at once.
docs/performance.md explains the budget; raise a bound only with a reason written there."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from .conftest import FIXTURES, read

# Statements per command on the small approval diagram, BEGIN/COMMIT not counted.
# Since 0004 start and complete write the changed workflow tasks to instance_tasks (one upsert,
# +1) and read the working-day calendar only when an expression counts working days (-1).
# -1 each for start, claim and complete since the audit head is moved by compare-and-set
# from the engine's last append (engine/audit.py ChainTip) instead of read, locked and updated.
# +1 for complete: the actor's row is share-locked before the plan, in its own SELECT, so that
# a deactivation committing meanwhile is seen (docs/performance.md says why not folded in).
# +1 each for claim and complete: whom the actor stands in for today (委托办理), one indexed SELECT
# on delegations, read with the actor's row before the plan and the task (users first).
# Mail notifications (engine/mail.py) add no statement while nobody has an email address: the
# inbox rows' INSERT answers whether anyone has (test_mail.py: one more when someone has).
# +1 for start by someone outside the reform office of a process that names no starters: whether
# a deployed process calls it (a called process is not started on its own by just anyone).
BUDGET = {"start": 14, "read": 2, "claim": 6, "complete": 10}


@contextmanager
def counted(db):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)
    engines = {db.engine, db.read_engine}
    for sa_engine in engines:
        event.listen(sa_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for sa_engine in engines:
            event.remove(sa_engine, "before_cursor_execute", count)


def test_each_action_stays_within_its_statement_budget(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    engine.start("parallel_review", actor="zhang")  # warm the spec cache, as a running server has
    used = {}
    with counted(engine.db) as statements:
        plan = engine.start("parallel_review", actor="zhang")
    used["start"] = len(statements)
    with counted(engine.db) as statements:
        engine.instance(plan["id"])
    used["read"] = len(statements)
    task = plan["tasks"][0]
    user = people[task["candidate_groups"][0]]
    with counted(engine.db) as statements:
        engine.claim(task["id"], actor=user)
    used["claim"] = len(statements)
    with counted(engine.db) as statements:
        engine.complete(task["id"], actor=user, data={})
    used["complete"] = len(statements)
    over = {k: (used[k], BUDGET[k]) for k in BUDGET if used[k] > BUDGET[k]}
    assert not over, f"statements (used, budget): {over}; all: {used}"
