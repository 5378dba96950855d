"""A deadline missed stays missed everywhere, not only in the ledger (audit of 6 December 2026).

When the reform office orders a new filing deadline (限期报送), the ledger judged 报送备案 by its
first deadline while the overview, the inbox, `tasks --overdue` and the statistics judged it by
the ordered one: a filing 22 days late read "due soon". Every figure now judges a step whose
deadline a variable moved later by its first deadline (engine/judged_due.py), the ordered one
beside it; a calendar recount corrects a deadline and orders none; a deadline moved earlier is
judged by the new one."""
from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from engine import clock
from engine.cli import main
from engine.overview import soon_by
from engine.queries import count_open_listed, list_tasks
from models import HumanTask

from .conftest import FIXTURES
from .plan_helper import complete_step
from .web_helper import page_text, signed_in_client

FIRST, ORDERED = "2026-11-12T16:00:00+00:00", "2026-12-11T16:00:00+00:00"


def _task(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return task


def _filing(engine, at, moment: str, issued: str) -> int:
    with at(moment):
        # the office starts a filing on its own: its initiator, chen, holds it
        return engine.start("filing", actor="chen", title=f"印发于{issued}的方案",
                            data={"issueDate": issued, "pilot": False, "documentNumber": "X发〔2026〕9号",
                                  "leadUnit": "市财政局"})["id"]


def _ordered(engine, at, plan: int, overdue_at: str, ordered_at: str, new_deadline: str) -> None:
    """The filing's month passes (逾期未备案处理 opens), then the office orders `new_deadline`."""
    with at(overdue_at):
        engine.fire_due_timers()
    with at(ordered_at):
        complete_step(engine, plan, "Task_EscalateOverdueFiling", "chen",
                      {"newDeadline": new_deadline, "escalationNote": "责令限期报送"})


def _case_m3(engine, at) -> tuple[int, int]:
    """M3: issued 12 October, due by the end of 12 November; on 4 December the office orders 11 December."""
    plan = _filing(engine, at, "2026-10-12T10:00:00", "2026-10-12")
    assert _task(engine, plan, "Task_FileDocument")["due_at"] == FIRST
    _ordered(engine, at, plan, "2026-11-13T09:00:00", "2026-12-04T09:00:00", "2026-12-11")
    task = _task(engine, plan, "Task_FileDocument")
    assert (task["due_at"], task["judged_due_at"]) == (ORDERED, FIRST)
    return plan, task["id"]


def test_after_an_ordered_deadline_the_overview_inbox_and_stats_agree_with_the_ledger(library, at):
    plan, filing = _case_m3(library, at)
    with at("2026-12-04T10:00:00"):
        [row] = library.ledger(process="filing")
        view = library.overview("chen")
        stats = library.step_times("chen", process="filing")
        with library.db.reader() as s:
            now = clock.now()
            soon = soon_by(s.connection(), now)
            overdue = list_tasks(s, "chen", "all", overdue_at=now)
            due_soon = list_tasks(s, "chen", "all", due_between=(now, soon))
            counts = count_open_listed(s, "chen", "all", now, soon_by=soon)
            mine = list_tasks(s, "chen", "mine")
    # the ledger, as before: red, 22 days from 12 November, 11 December beside it
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (row["colour"], missed["due_at"], missed["days_late"], missed["ordered_due_at"]) == ("red", FIRST, 22, ORDERED)
    # the overview: overdue 22 days from 12 November (it said due soon, 11 December)
    [item] = [t for t in view["overdue"]["tasks"] if t["task_id"] == filing]
    assert (item["due_at"], item["due_on"], item["ordered_due_at"], item["days_late"]) == (FIRST, "2026-11-12", ORDERED, 22)
    assert filing not in [t["task_id"] for t in view["due_soon"]["tasks"]]
    assert (view["filings"]["overdue"], view["filings"]["due_soon"]) == (1, 0)
    assert {"lead_unit": "市财政局", "overdue": 1, "reports": 0, "plans": 1} in view["units"]["top"]
    # the inbox: 只看已逾期 lists it, 只看即将到期 does not, and the counts say so
    assert filing in [t["id"] for t in overdue] and filing not in [t["id"] for t in due_soon]
    assert counts[1:] == (len(overdue), len(due_soon))
    [listed] = [t for t in mine if t["id"] == filing]
    assert (listed["due_at"], listed["judged_due_at"]) == (ORDERED, FIRST)  # the current deadline kept beside
    # the statistics: open and overdue
    [step] = [r for r in stats["steps"] if r["element_id"] == "Task_FileDocument"]
    assert (step["open"], step["open_overdue"]) == (1, 1)
    assert [(u["lead_unit"], u["open_overdue"]) for u in stats["units"]] == [("市财政局", 1)]


def test_the_overdue_filing_comes_first_in_the_inbox_and_in_tasks_overdue(library, at):
    plan, filing = _case_m3(library, at)
    other = _filing(library, at, "2026-11-20T10:00:00", "2026-11-20")  # due by 21 December: open, not overdue
    with at("2026-12-04T10:00:00"):
        with library.db.reader() as s:
            listed = [t["id"] for t in list_tasks(s, "chen", "mine")]
    assert listed.index(filing) < listed.index(_task(library, other, "Task_FileDocument")["id"])  # overdue first
    run = ["--db", library.db.url, "--now", "2026-12-04T10:00:00", "tasks", "--as", "chen"]
    result = CliRunner().invoke(main, [*run, "--overdue", "--json"])
    assert result.exit_code == 0, result.output
    assert [t["id"] for t in json.loads(result.output)["tasks"]] == [filing]
    said = CliRunner().invoke(main, [*run, "--overdue"])
    assert said.exit_code == 0, said.output
    assert "期限 (due) 2026-11-12（另定期限 2026-12-11）(new deadline 2026-12-11) 已逾期" in said.output


def test_the_inbox_and_the_task_page_read_overdue_with_the_ordered_deadline_beside(library, at):
    plan, filing = _case_m3(library, at)
    library.set_password("chen", "correct horse battery", actor="chen", first=True)
    with at("2026-12-04T10:00:00"):
        chen = signed_in_client(library, "chen", "correct horse battery", language="zh")
        inbox = chen.get("/tasks?scope=mine&overdue=1")
        page = chen.get(f"/tasks/{filing}")
    row = page_text(inbox).split("报送备案", 1)[1]
    assert "2026年11月12日 （另定期限 2026年12月11日） 已逾期" in row
    assert "2026年11月12日 （另定期限 2026年12月11日）" in page_text(page)
    assert "已逾期 22 天" in page_text(page)


def test_the_api_says_overdue_by_the_first_deadline(library, at):
    plan, filing = _case_m3(library, at)
    with at("2026-12-04T09:30:00"):
        token = library.create_token("chen", "台账脚本")["secret"]
    from web import create_app
    client = create_app(engine=library, secret_key="test", testing=True).test_client()
    with at("2026-12-04T10:00:00"):
        headers = {"Authorization": f"Bearer {token}"}
        overdue = client.get("/api/v1/tasks?scope=mine&due=overdue", headers=headers).get_json()
        soon = client.get("/api/v1/tasks?scope=mine&due=soon", headers=headers).get_json()
    [task] = overdue["tasks"]
    assert (task["id"], task["overdue"], task["due_at"], task["judged_due_at"]) == (filing, True, ORDERED, FIRST)
    assert soon["tasks"] == []


def test_a_filing_made_after_its_month_but_by_the_ordered_deadline_is_late_in_the_statistics(library, at):
    """A20: due by the end of 22 May, 3 June ordered on 27 May, filed 1 June: 10 days late."""
    plan = _filing(library, at, "2026-04-22T10:00:00", "2026-04-22")
    assert _task(library, plan, "Task_FileDocument")["due_at"] == "2026-05-22T16:00:00+00:00"
    _ordered(library, at, plan, "2026-05-23T09:00:00", "2026-05-27T09:00:00", "2026-06-03")
    with at("2026-06-01T10:00:00"):
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-06-01", "filingMaterials": "正式文本"})
    with at("2026-06-02T10:00:00"):
        [row] = library.ledger(process="filing")
        stats = library.step_times("chen", process="filing")
        with library.db.reader() as s:
            late = list_tasks(s, "chen", "done", overdue_at=clock.now())
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (row["colour"], missed["days_late"]) == ("yellow", 10)
    [step] = [r for r in stats["steps"] if r["element_id"] == "Task_FileDocument"]
    assert (step["completed"], step["late"]) == (1, 1)  # counted on time before
    assert [(u["lead_unit"], u["late"]) for u in stats["units"]] == [("市财政局", 1)]
    assert [t["element_id"] for t in late] == ["Task_FileDocument"]  # 只看逾期办结的


def test_a_calendar_recount_is_no_order_the_step_is_judged_by_the_recounted_deadline(library, at):
    """Holidays entered after the filing opened move its month's end from 11 to 15 February: a
    correction. On the 13th the filing is not overdue anywhere."""
    plan = _filing(library, at, "2027-01-05T10:00:00", "2027-01-05")
    with at("2027-01-06T09:00:00"):
        for day in (9, 10, 11, 12):
            library.set_calendar_day(date(2027, 2, day), working=False, note="春节", actor="chen")
        library.recount_working_days(date(2027, 2, 12), actor="chen")
    task = _task(library, plan, "Task_FileDocument")
    assert (task["due_at"], task["judged_due_at"]) == ("2027-02-15T16:00:00+00:00", "2027-02-15T16:00:00+00:00")
    with library.db.reader() as s:
        assert s.execute(select(HumanTask.first_due_at).where(HumanTask.id == task["id"])).scalar_one() is None
    with at("2027-02-13T10:00:00"):
        view = library.overview("chen")
        stats = library.step_times("chen", process="filing")
        with library.db.reader() as s:
            overdue = list_tasks(s, "chen", "all", overdue_at=clock.now())
    assert task["id"] not in [t["task_id"] for t in view["overdue"]["tasks"]]
    assert task["id"] not in [t["id"] for t in overdue]
    [step] = [r for r in stats["steps"] if r["element_id"] == "Task_FileDocument"]
    assert step["open_overdue"] == 0


def _parallel_with_a_deadline(engine) -> None:
    """corpus_parallel_gateway with 合法性意见 due by ${firstDeadline} until 风险意见 sets ${deadline}."""
    xml = (FIXTURES / "corpus" / "parallel_gateway.bpmn").read_text(encoding="utf-8")
    legal = '<bpmn:userTask id="Activity_0thu8bh" name="合法性意见" camunda:candidateGroups="legal">'
    risk = '<bpmn:userTask id="Activity_1vm4iml" name="风险意见" camunda:candidateGroups="risk">'
    assert legal in xml and risk in xml
    form = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="deadline" label="合法性意见期限" '
            'type="date" /></camunda:formData></bpmn:extensionElements>')
    engine.deploy([("parallel_gateway.bpmn", xml.replace(
        legal, legal.replace('camunda:candidateGroups', 'camunda:dueDate="${empty deadline ? firstDeadline : deadline}" '
                   'camunda:candidateGroups')).replace(
        risk, risk + form).encode())])


def _judged_on(engine, at, first: str, second: str, moment: str,
               moved_at: str = "2026-12-01T09:00:00") -> tuple[dict, bool]:
    with at("2026-12-01T09:00:00"):
        plan = engine.start("corpus_parallel_gateway", actor="zhang", data={"firstDeadline": first})["id"]
    with at(moved_at):
        complete_step(engine, plan, "Activity_1vm4iml", "zhou", {"deadline": second})
    task = _task(engine, plan, "Activity_0thu8bh")
    with at(moment):
        with engine.db.reader() as s:
            overdue = [t["id"] for t in list_tasks(s, "li", "claimable", overdue_at=clock.now())]
    return task, task["id"] in overdue


def test_a_deadline_moved_earlier_is_judged_by_the_new_one(engine, people, at):
    _parallel_with_a_deadline(engine)
    task, overdue = _judged_on(engine, at, "2026-12-20", "2026-12-10", "2026-12-12T10:00:00")
    assert (task["due_at"], task["judged_due_at"]) == ("2026-12-10T16:00:00+00:00", "2026-12-10T16:00:00+00:00")
    assert overdue


def test_a_deadline_extended_before_it_passed_is_simply_the_deadline(engine, people, at):
    """The review of 6 December 2026: a revised rectification deadline granted before the first
    passed made the step overdue from the first everywhere. Only a deadline missed stays missed."""
    _parallel_with_a_deadline(engine)
    task, overdue = _judged_on(engine, at, "2026-12-10", "2026-12-20", "2026-12-12T10:00:00")
    assert (task["due_at"], task["judged_due_at"]) == ("2026-12-20T16:00:00+00:00", "2026-12-20T16:00:00+00:00")
    assert not overdue


def test_a_deadline_moved_later_after_it_was_missed_is_judged_by_the_first(engine, people, at):
    _parallel_with_a_deadline(engine)
    task, overdue = _judged_on(engine, at, "2026-12-10", "2026-12-20", "2026-12-12T10:00:00",
                               moved_at="2026-12-11T09:00:00")
    assert (task["due_at"], task["judged_due_at"]) == ("2026-12-20T16:00:00+00:00", "2026-12-10T16:00:00+00:00")
    assert overdue


def test_schema_0026_fills_the_first_deadline_of_a_filing_ordered_before_the_upgrade(blank_url, at):
    """A database whose filing had its deadline ordered under schema 0025: the upgrade takes its
    first deadline from the trail (the ledger's rule), so the inbox says overdue at once; a
    deadline only a calendar recount moved stays without one. The downgrade drops the column."""
    from alembic import command

    from engine.commands import Engine
    from models.db import Database

    from .conftest import add_people, migrate_to
    from .plan_helper import deploy_library

    db = Database(blank_url)
    db.upgrade()
    engine = Engine(db)
    add_people(engine)
    deploy_library(engine)
    plan, filing = _case_m3(engine, at)
    recounted = _task(engine, _filing(engine, at, "2027-01-05T10:00:00", "2027-01-05"), "Task_FileDocument")["id"]
    with at("2027-01-06T09:00:00"):
        for day in (9, 10, 11, 12):
            engine.set_calendar_day(date(2027, 2, day), working=False, note="春节", actor="chen")
        engine.recount_working_days(date(2027, 2, 12), actor="chen")
    _parallel_with_a_deadline(engine)  # extended before it passed: the trail has the move, no first deadline
    extended, _ = _judged_on(engine, at, "2026-12-10", "2026-12-20", "2026-12-12T10:00:00")
    db.dispose()

    migrate_to(blank_url, "0025", command.downgrade)  # as schema 0025 kept it: the first deadline in the trail only
    db = Database(blank_url)
    try:
        db.upgrade()
        with db.reader() as s:
            first = dict(s.execute(select(HumanTask.id, HumanTask.first_due_at)).all())
            with at("2026-12-04T10:00:00"):
                overdue = [t["id"] for t in list_tasks(s, "chen", "mine", overdue_at=clock.now())]
        assert first[filing].isoformat() == FIRST
        assert first[recounted] is None and first[extended["id"]] is None
        assert [task for task, due in first.items() if due is not None] == [filing]
        assert filing in overdue
    finally:
        db.dispose()
