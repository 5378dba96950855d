"""Moving a plan to a version whose rules changed: an open step's deadline and its waiting timers
under a corrected due-date rule (periodEnd, Civil Code Art. 203) are counted again, from what they
were counted from; a deadline the office ordered (限期报送) stays; and a step the new version moved
into an embedded subprocess is refused with the truth (upgrade audit: plans AU-P and DT-2015-07)."""
from __future__ import annotations

from copy import deepcopy

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.cli import main
from engine.errors import Invalid
from engine.history import plan_history
from engine.queries import list_tasks
from engine.trail_text import said

from .conftest import BPMN
from .plan_helper import audit_payloads, complete_step
from .web_helper import page_text, signed_in_client

FILING = (BPMN / "filing.bpmn").read_text(encoding="utf-8")
# filing before the legal fix: a period ending on a day off ended on that day
OLD_FILING = (FILING.replace("periodEnd(addMonths(issueDate, filingMonths))", "addMonths(issueDate, filingMonths)")
              .replace("periodEnd(addDays(issueDate, pilotFilingDays))", "addDays(issueDate, pilotFilingDays)"))
assert "periodEnd" not in OLD_FILING
# issued on the last day of 2026: one month runs to Sunday 31 January 2027, under the fix to Monday 1 February
ISSUED = {"issueDate": "2026-12-31", "pilot": False, "documentNumber": "X发〔2026〕99号"}
SUNDAY_END, MONDAY_END = "2027-01-31T16:00:00+00:00", "2027-02-01T16:00:00+00:00"


def _deploy(engine, xml: str) -> int:
    [result] = engine.deploy([("filing.bpmn", xml.encode())])
    return result["version"]


def _task(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return task


def _old_plan(engine, at) -> int:
    assert _deploy(engine, OLD_FILING) == 1
    with at("2027-01-04T09:00:00"):
        plan = engine.start("filing", actor="chen", title="AU-P", data=ISSUED)["id"]
    assert _task(engine, plan, "Task_FileDocument")["due_at"] == SUNDAY_END
    assert _deploy(engine, FILING) == 2
    return plan


def test_a_deadline_under_a_corrected_rule_is_counted_again_when_the_plan_moves(engine, people, at):
    plan = _old_plan(engine, at)
    filing = _task(engine, plan, "Task_FileDocument")
    with at("2027-01-05T09:00:00"):
        fresh = engine.start("filing", actor="chen", title="新版本方案", data=ISSUED)["id"]  # as the new version counts
        preview = engine.migration_preview(plan, actor="chen")
    assert preview["allowed"], preview["refusals"]
    steps = {s["element_id"]: s for s in preview["steps"]}
    assert steps["Task_FileDocument"]["recounted"] == {"old": SUNDAY_END, "new": MONDAY_END}
    assert steps["Event_FilingOverdue"]["recounted"] == {"old": SUNDAY_END, "new": MONDAY_END}
    reminder = steps["Event_FilingReminder"]["recounted"]
    assert reminder["old"] < reminder["new"]
    assert _task(engine, plan, "Task_FileDocument")["due_at"] == SUNDAY_END  # the preview changed nothing

    with at("2027-01-05T09:00:00"):
        moved = engine.migrate_plan(plan, actor="chen", reason="适用期限顺延规则",
                                    expected_version=preview["expected_version"])
    [kept] = moved["tasks"]
    assert (kept["id"], kept["due_at"]) == (filing["id"], MONDAY_END)
    assert moved["next_timer_at"] == engine.instance(fresh)["next_timer_at"]  # the reminder, as a new plan's
    [changed] = audit_payloads(engine, plan, "task_due_changed")
    assert (changed["reason"], changed["old"]["due_at"], changed["new"]["due_at"]) == ("migration", SUNDAY_END, MONDAY_END)
    assert {p["element_id"] for p in audit_payloads(engine, plan, "timer_moved")} == {
        "Event_FilingOverdue", "Event_FilingReminder"}
    with engine.db.reader() as s:
        [event] = [e for e in plan_history(s, plan)["events"] if e["event_type"] == "task_due_changed"]
    assert "迁移到新版本，按新版本的规则重算" in said(event, "zh")
    # the holder's inbox shows the new deadline
    with engine.db.reader() as s:
        [mine] = [t for t in list_tasks(s, "chen", "mine") if t["id"] == filing["id"]]
    assert mine["due_at"] == MONDAY_END

    with at("2027-02-01T10:00:00"):  # Monday: under the old rule the filing was overdue since Sunday night
        engine.fire_due_timers()
        assert "Task_EscalateOverdueFiling" not in {t["element_id"] for t in engine.instance(plan)["tasks"]}
        complete_step(engine, plan, "Task_FileDocument", "chen", {"filingDate": "2027-02-01", "filingMaterials": "正式文本"})
        complete_step(engine, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert engine.instance(plan)["status"] == "completed"


def test_a_deadline_whose_rule_did_not_change_stays_exactly(engine, people, at):
    assert _deploy(engine, OLD_FILING) == 1
    with at("2027-01-04T09:00:00"):
        plan = engine.start("filing", actor="chen", title="AU-P", data=ISSUED)["id"]
    timer = engine.instance(plan)["next_timer_at"]
    _deploy(engine, OLD_FILING.replace('name="报送备案" camunda:assignee', 'name="报送备案材料" camunda:assignee'))
    with at("2027-01-05T09:00:00"):
        preview = engine.migration_preview(plan)
        assert not any(s.get("recounted") for s in preview["steps"])
        moved = engine.migrate_plan(plan, actor="chen", reason="改名")
    assert (moved["tasks"][0]["due_at"], moved["next_timer_at"]) == (SUNDAY_END, timer)
    assert audit_payloads(engine, plan, "task_due_changed") == audit_payloads(engine, plan, "timer_moved") == []


def test_a_deadline_the_office_ordered_survives_the_move(engine, people, at):
    plan = _old_plan(engine, at)
    with at("2027-02-01T09:00:00"):  # overdue under the old rule since Sunday night: the office orders 10 February
        engine.fire_due_timers()
        complete_step(engine, plan, "Task_EscalateOverdueFiling", "chen",
                      {"newDeadline": "2027-02-10", "escalationNote": "限期报送"})
    ordered = "2027-02-10T16:00:00+00:00"
    assert _task(engine, plan, "Task_FileDocument")["due_at"] == ordered
    timer = engine.instance(plan)["next_timer_at"]
    with at("2027-02-02T09:00:00"):
        preview = engine.migration_preview(plan)
        assert preview["allowed"], preview["refusals"]
        [step] = [s for s in preview["steps"] if s["element_id"] == "Task_FileDocument"]
        assert step["recounted"] == {"old": ordered, "new": ordered}
        moved = engine.migrate_plan(plan, actor="chen", reason="适用期限顺延规则")
    assert _task(engine, plan, "Task_FileDocument")["due_at"] == ordered
    assert moved["next_timer_at"] == timer  # 限期届满 waits for the ordered day still
    assert [p.get("reason") for p in audit_payloads(engine, plan, "task_due_changed")] == [None]  # the order's only
    with at("2027-02-08T09:00:00"):  # a later sync does not move it either
        complete_step(engine, plan, "Task_FileDocument", "chen", {"filingDate": "2027-02-08", "filingMaterials": "正式文本"})
        complete_step(engine, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert engine.instance(plan)["status"] == "completed"


def test_the_command_line_preview_says_each_deadline_old_and_new(engine, people, at):
    plan = _old_plan(engine, at)
    result = CliRunner().invoke(main, ["--db", engine.db.url, "--now", "2027-01-05T09:00:00", "migrate", str(plan),
                                       "--reason", "x", "--as", "chen", "--dry-run"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "Task_FileDocument" in x)
    assert "期限规则 due-date rule" in line and "沿用" not in line
    assert "按新规则重算 (counted again under the new rule) 2027-01-31 → 2027-02-01" in line


def test_the_web_preview_says_each_deadline_old_and_new(engine, people, at):
    plan = _old_plan(engine, at)
    engine.set_password("chen", "迁移预览-2027", actor="chen", first=True)
    with at("2027-01-05T09:00:00"):
        page = page_text(signed_in_client(engine, "chen", "迁移预览-2027").get(f"/plans/{plan}/migrate"))
        english = page_text(signed_in_client(engine, "chen", "迁移预览-2027", "en").get(f"/plans/{plan}/migrate"))
    assert "报送备案 · 保留，按新版本更新：期限规则 · 陈静（chen） 按新规则重算：期限 2027年1月31日 → 2027年2月1日" in page
    assert "备案期限届满 · 保留，按新版本更新：定时规则 按新规则重算：期限 2027年1月31日 → 2027年2月1日" in page
    assert "沿用" not in page
    assert "Counted again under the new rule: deadline 2027-01-31 → 2027-02-01" in english


# ---------------------------------------------------------------- a step moved into a subprocess
def _flat_filing() -> str:
    """filing as a database of 4 December had it: 报送备案 and 备案审查 at the process's top level
    (no SubProcess_Filing, no 限期报送 and 通报)."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    root = etree.fromstring(FILING.encode())
    [process] = root.xpath("//bpmn:process[@id='filing']", namespaces=ns)
    [sub] = process.xpath("bpmn:subProcess", namespaces=ns)
    q = "{%s}" % ns["bpmn"]
    for element in list(process):
        if element.get("id") in ("Event_NoticeDueCaught", "Flow_NoticeCaught", "Task_PublicNotice",
                                 "Flow_PublicNoticeDone", "Event_EscalationHandled"):
            process.remove(element)
    file_task = deepcopy(sub.xpath("bpmn:userTask[@id='Task_FileDocument']", namespaces=ns)[0])
    check = deepcopy(sub.xpath("bpmn:userTask[@id='Task_CheckFiling']", namespaces=ns)[0])
    for task, incoming, outgoing in ((file_task, "Flow_DeadlineSet", "Flow_FilingSubmitted"),
                                     (check, "Flow_FilingSubmitted", "Flow_Filed")):
        for old in task.xpath("bpmn:incoming | bpmn:outgoing", namespaces=ns):
            task.remove(old)
        for tag, ref in (("incoming", incoming), ("outgoing", outgoing)):
            etree.SubElement(task, q + tag).text = ref
    index = process.index(sub)
    process.remove(sub)
    flow = etree.Element(q + "sequenceFlow", id="Flow_FilingSubmitted", sourceRef="Task_FileDocument",
                         targetRef="Task_CheckFiling")
    for offset, element in enumerate((file_task, flow, check)):
        process.insert(index + offset, element)
    [to_sub] = process.xpath("bpmn:sequenceFlow[@id='Flow_DeadlineSet']", namespaces=ns)
    to_sub.set("targetRef", "Task_FileDocument")
    [filed] = process.xpath("bpmn:sequenceFlow[@id='Flow_Filed']", namespaces=ns)
    filed.set("sourceRef", "Task_CheckFiling")
    for lanes in process.xpath("bpmn:laneSet", namespaces=ns):
        process.remove(lanes)
    for files_of in check.xpath(".//*[local-name()='property'][@name='filesOf']"):
        files_of.getparent().remove(files_of)
    ids = set(root.xpath("//@id"))
    for drawn in root.xpath("//*[@bpmnElement]"):
        if drawn.get("bpmnElement") not in ids:
            drawn.getparent().remove(drawn)
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("past_it", [False, True])
def test_a_step_moved_into_a_subprocess_is_refused_with_the_truth(engine, people, at, past_it):
    engine.deploy([("filing.bpmn", _flat_filing().encode())])
    with at("2026-12-04T09:00:00"):
        plan = engine.start("filing", actor="chen", title="DT-2015-07", data={**ISSUED, "issueDate": "2026-12-01"})["id"]
        if past_it:
            complete_step(engine, plan, "Task_FileDocument", "chen", {"filingDate": "2026-12-04", "filingMaterials": "正式文本"})
    assert _deploy(engine, FILING) == 2
    before = engine.instance(plan)
    [reason] = engine.migration_preview(plan)["refusals"]
    assert "Task_FileDocument「报送备案」" in reason
    assert "移入了子流程「报送和审查备案（含提醒、限期报送）」（SubProcess_Filing）" in reason
    assert "本方案按原版本继续办理直至办结即可" in reason
    assert "没有同 id 的元素" not in reason and "已删除" not in reason and "终止" not in reason
    with pytest.raises(Invalid, match="SubProcess_Filing"):
        engine.migrate_plan(plan, actor="chen", reason="新版本")
    assert engine.instance(plan)["definition_version"] == before["definition_version"] == 1
    with at("2026-12-05T09:00:00"):  # and it ends on its own version
        if not past_it:
            complete_step(engine, plan, "Task_FileDocument", "chen", {"filingDate": "2026-12-05", "filingMaterials": "正式文本"})
        complete_step(engine, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert engine.instance(plan)["status"] == "completed"
