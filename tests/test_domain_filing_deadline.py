"""A filing that missed its one month stays missed when the reform office orders a new deadline
(限期报送): the ledger judges 报送备案 by the statutory deadline and shows the ordered one beside
it (DOMAIN.md: green on time, yellow a milestone missed but made up, red missed)."""
from __future__ import annotations

from click.testing import CliRunner

from engine.cli import main

from .plan_helper import complete_step
from .test_reform_plan import library  # noqa: F401 - the process library, deployed

ISSUED = {"issueDate": "2026-01-31", "pilot": False, "documentNumber": "X发〔2026〕9号"}


def _task(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return task


def _late_filing_with_new_deadline(engine, at) -> int:
    """Issued 31 January: due by the end of 28 February; on 2 March the office orders 10 March."""
    with at("2026-03-02T09:00:00"):
        plan = engine.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        assert _task(engine, plan, "Task_FileDocument")["due_at"] == "2026-02-28T16:00:00+00:00"
        engine.fire_due_timers()
        complete_step(engine, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10", "escalationNote": "限期"})
        assert _task(engine, plan, "Task_FileDocument")["due_at"] == "2026-03-10T16:00:00+00:00"
    return plan


def test_a_filing_still_missing_after_a_new_deadline_is_ordered_stays_red_against_the_month(library, at):  # noqa: F811
    plan = _late_filing_with_new_deadline(library, at)
    with at("2026-03-04T09:00:00"):  # within the ordered deadline, four days past the month
        [row] = library.ledger(process="filing")
    assert (row["id"], row["colour"]) == (plan, "red")
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (missed["due_at"], missed["days_late"], missed["done_at"]) == ("2026-02-28T16:00:00+00:00", 4, None)
    assert missed["ordered_due_at"] == "2026-03-10T16:00:00+00:00"


def test_a_filing_made_five_days_after_its_month_is_yellow_with_the_ordered_deadline_beside(library, at):  # noqa: F811
    plan = _late_filing_with_new_deadline(library, at)
    with at("2026-03-05T09:00:00"):
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-03-05", "filingMaterials": "正式文本"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        [row] = library.ledger(process="filing", status="all")
    assert row["colour"] == "yellow"  # it had shown green: the missed month was forgotten
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (missed["due_at"], missed["days_late"]) == ("2026-02-28T16:00:00+00:00", 5)
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-05T10:00:00", "ledger",
                                       "--process", "filing", "--status", "all"])
    assert result.exit_code == 0, result.output
    assert "[黄 yellow]" in result.output
    assert "报送备案：期限 2026-02-28（另定期限 2026-03-10），迟 5 天完成" in result.output
    assert "(due 2026-02-28, new deadline 2026-03-10, done 5 days late)" in result.output


def test_a_filing_made_by_its_month_is_green_and_shows_no_ordered_deadline(library, at):  # noqa: F811
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-02-20", "filingMaterials": "正式文本"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        [row] = library.ledger(process="filing", status="all")
    assert (row["colour"], row["missed"]) == ("green", [])
