"""Queries that must not grow with the years: a page's or a command's statements reach the rows
they need by an index, and their number does not follow the number of rows (users, plans).
The figures measured on two years of a province's data are in docs/performance.md."""
from __future__ import annotations

from sqlalchemy import event, inspect

from engine import ledger, supervision
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
