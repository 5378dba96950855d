"""The decision archive (决策档案): a plan's records filed under the five statutory procedures of a
major decision (Decree 713 Art. 33), each proved by its audit event; on the command line, as
JSON and as the files the archive clerk keeps (.xlsx, .csv), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from engine.cli import main
from engine.errors import Invalid
from models import ProcessDefinition

from .conftest import BPMN, read
from .plan_helper import Plan
from .test_audit import tamper
from .test_implementation import Implementation

EVERY_PROCEDURE = {"category": "major", "touchesPublicInterest": True, "technical": True,
                   "riskAssessmentRequired": True, "leadUnit": "市财政局"}


def _archived_plan(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        # a consultation that began in January is over when its timer is reached
        plan.finish(Task_RegisterPlan=EVERY_PROCEDURE,
                    Task_PublicConsultation={"consultationStart": "2026-01-05", "consultationDays": 30},
                    Task_PrepareRiskReport={"riskLevel": "low"})
    return plan


def _archive(library, plan_id, *args):
    return CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-03T09:00:00", "archive",
                                     str(plan_id), *args])


def _names(archive: dict) -> dict[str, list[str]]:
    return {s["name"]: [r["name"] for r in s["records"]] for s in archive["sections"]}


def test_each_record_is_filed_under_its_procedure_with_who_and_what(library, at, tmp_path):
    plan = _archived_plan(library, at)
    result = _archive(library, plan.id, "--json")
    assert result.exit_code == 0, result.output
    archive = json.loads(result.stdout)
    assert (archive["title"], archive["lead_unit"], archive["status"]) == ("深化财政预算管理制度改革方案", "市财政局",
                                                                            "completed")
    assert archive["verified"] == {"ok": True, "events": 20, "stop_checked": False, "problems": []}
    assert _names(archive) == {
        "公众参与": ["发布公开征求意见", "登记公众意见采纳情况"],
        "专家论证": ["专家论证", "登记专家意见采纳情况"],
        "风险评估": ["编制社会稳定风险评估报告", "登记随决策附带的风险防控措施"],
        "合法性审查": ["核对送审材料是否齐全", "合法合规性审查"],
        "集体讨论决定": ["改革办审核拟上会方案", "组长审定议题", "记录领导小组会议审议"],
        "其他办理记录": ["确认方案任务信息", "调查研究", "起草方案", "征求相关部门意见", "专项小组审核把关", "移交决策档案",
                   "印发", "报送备案", "备案审查"],
    }
    risk = {s["code"]: s for s in archive["sections"]}["risk_assessment"]["records"][0]
    assert (risk["actor"], risk["actor_name"]) == ("zhou", "周杰")
    assert {"field": "riskLevel", "label": "风险等级", "value": "low", "option": "低风险"} in risk["values"]
    # every record names the audit event that proves it
    events = {e["seq"]: e for e in map(json.loads, CliRunner().invoke(
        main, ["--db", library.db.url, "audit", "export", "--instance", str(plan.id)]).stdout.splitlines())}
    for section in archive["sections"]:
        for record in section["records"]:
            event = events[record["seq"]]
            assert (event["event_type"], event["task_id"], event["hash"]) == (
                "task_completed", record["task_id"], record["hash"])

    shown = _archive(library, plan.id)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[1] == "  核验 (check)：20 条记录均与审计链相符 (20 records match the audit chain)"
    assert "3. 风险评估 (risk assessment)：2 条记录 (2 records)" in lines
    risk_line = lines.index("3. 风险评估 (risk assessment)：2 条记录 (2 records)") + 1
    assert lines[risk_line].startswith("    2026-03-02 09:00  周杰（zhou") and "编制社会稳定风险评估报告" in lines[risk_line]
    assert "风险等级：低风险" in lines[risk_line + 1]  # a choice by its name, as the form showed it


def test_the_archive_is_saved_for_the_archive_clerk(library, at, tmp_path):
    from openpyxl import load_workbook

    plan = _archived_plan(library, at)
    xlsx = tmp_path / "决策档案.xlsx"
    result = _archive(library, plan.id, "--output", str(xlsx))
    assert result.exit_code == 0 and "已写入决策档案" in result.stderr
    rows = [[c.value for c in r] for r in load_workbook(xlsx).active.iter_rows()]
    assert rows[0] == ["方案名称", "深化财政预算管理制度改革方案", None, None, None, None, None, None, None]
    assert rows[7][:2] == ["核验", "20 条记录均与审计链相符"]  # the file is in Chinese throughout
    header = rows.index(["决策程序", "办理时间", "办理人", "所在单位", "办理环节", "填报内容", "附件", "审计事件号", "事件哈希"])
    table = rows[header + 1:]
    assert [r[0] for r in table].count("集体讨论决定") == 3
    meeting = next(r for r in table if r[4] == "记录领导小组会议审议")
    # written by a frozen clock: the time it states, and when it was really written
    assert meeting[1].startswith("2026-03-02 09:00（实际写入 ") and "会议日期" in meeting[5] and meeting[6] is None and len(meeting[8]) == 64

    csv_file = tmp_path / "决策档案.csv"
    assert _archive(library, plan.id, "--output", str(csv_file)).exit_code == 0
    with open(csv_file, encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f))[1:] == [["" if c is None else str(c) for c in r] for r in table]

    refused = _archive(library, plan.id, "--output", str(tmp_path / "决策档案.docx"))
    assert refused.exit_code != 0 and "决策档案文件须以 .xlsx 或 .csv 结尾" in refused.stderr
    for empty in (_archive(library, plan.id, "--output", ""),  # "$FILE" unset in a script: refused, not ignored
                  CliRunner().invoke(main, ["--db", library.db.url, "ledger", "--output", ""])):
        assert empty.exit_code == 3 and "文件须以 .xlsx 或 .csv 结尾" in empty.stderr and empty.stdout == ""


def test_a_title_like_a_formula_stays_text_in_the_archive_file(library, at, tmp_path):
    from openpyxl import load_workbook

    with at("2026-03-02T09:00:00"):
        plan = Plan(library, title="=1+1")
        plan.do("Task_RegisterPlan")
    assert _archive(library, plan.id, "--output", str(tmp_path / "决策档案.xlsx")).exit_code == 0
    cell = load_workbook(tmp_path / "决策档案.xlsx").active["B1"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_a_procedure_the_plan_did_not_go_through_says_so(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    lines = _archive(library, plan.id).stdout.splitlines()
    # not needed by the plan's own answer at 确认方案任务信息, as the diagram's gateway says it
    assert "1. 公众参与 (public participation)：不需要（是否涉及群众切身利益：不涉及） " \
           "(not needed: 是否涉及群众切身利益：不涉及)" in lines
    assert "5. 集体讨论决定 (collective discussion and decision)：尚未到达，无记录 (not reached yet, no record)" in lines
    assert "4. 合法性审查 (legality review)：1 条记录 (1 record)" in lines  # materials checked, review open


def test_a_changed_record_is_reported(library, at):
    plan = _archived_plan(library, at)
    archive = json.loads(_archive(library, plan.id, "--json").stdout)
    record = {s["code"]: s for s in archive["sections"]}["legality_review"]["records"][1]
    with library.db.engine.connect() as conn:
        payload = conn.execute(text("SELECT payload FROM audit_events WHERE seq = :seq"), {"seq": record["seq"]}).scalar()
    # someone with database rights softens the legal opinion
    tamper(library.db, "UPDATE audit_events SET payload = :p WHERE seq = :seq",
           p=payload.replace("pass", "pass_with_changes"), seq=record["seq"])
    shown = _archive(library, plan.id)
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1] == (
        f"  核验 (check)：发现问题 (problems)：事件 {record['seq']} 的内容与其哈希不符，该事件被改动 (event "
        f"{record['seq']}: content does not match its hash: the event was changed)")


def test_a_record_rewritten_with_its_hash_recomputed_is_reported(library, at):
    from engine.audit import event_hash
    from models import AuditEvent

    plan = _archived_plan(library, at)
    archive = json.loads(_archive(library, plan.id, "--json").stdout)
    record = {s["code"]: s for s in archive["sections"]}["legality_review"]["records"][1]
    with library.db.reader() as s:
        e = s.get(AuditEvent, record["seq"])
        payload = e.payload.replace("pass", "pass_with_changes")
        digest = event_hash(e.seq, e.occurred_at, e.actor, e.event_type, e.instance_id, e.task_id, payload,
                            e.prev_hash, e.recorded_at, e.channel, e.token_id)
    # a careful attacker recomputes the event's own hash: only the next event's link shows it
    tamper(library.db, "UPDATE audit_events SET payload = :p, hash = :h WHERE seq = :seq",
           p=payload, h=digest, seq=record["seq"])
    assert _archive(library, plan.id).stdout.splitlines()[1] == (
        f"  核验 (check)：发现问题 (problems)：事件 {record['seq']} 与后一事件的哈希链接断开，该事件被改写或其后的事件被删除 "
        f"(event {record['seq']}: the next event does not link to it: it was rewritten, or the event after it removed)")


def test_the_chains_last_event_is_checked_against_the_head(library, at):
    plan = _archived_plan(library, at)
    assert json.loads(_archive(library, plan.id, "--json").stdout)["verified"]["ok"] is True
    last = max(r["seq"] for s in json.loads(_archive(library, plan.id, "--json").stdout)["sections"]
               for r in s["records"])
    # the plan's last record made the chain's last event, the head moved back onto it: the record
    # links to the head, only the plan's end event is missing
    tamper(library.db, "DELETE FROM audit_events WHERE seq > :seq", seq=last)
    with library.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET last_seq = :seq, last_hash = (SELECT hash FROM audit_events "
                          "WHERE seq = :seq)"), {"seq": last})
    assert json.loads(_archive(library, plan.id, "--json").stdout)["verified"]["problems"] == [
        f"方案 {plan.id} 已办结，但审计记录中没有办结事件（instance_ended），该事件被删除 (plan {plan.id}: completed, "
        "but its instance_ended event is missing: the event was removed)"]


def test_another_plans_event_rewritten_just_before_a_record_is_said_to_be_before_it(library, at):
    from engine.audit import event_hash
    from models import AuditEvent

    with at("2026-03-02T09:00:00"):
        plan, other = Plan(library), Plan(library, title="推进用地管理改革方案")
        plan.do("Task_RegisterPlan")
    record = json.loads(_archive(library, plan.id, "--json").stdout)["sections"][-1]["records"][0]
    with library.db.reader() as s:
        before = s.get(AuditEvent, record["seq"] - 1)
        assert before.instance_id == other.id  # the other plan's task created just before
        payload = before.payload.replace("drafter", "reform_office")
        digest = event_hash(before.seq, before.occurred_at, before.actor, before.event_type, before.instance_id,
                            before.task_id, payload, before.prev_hash, before.recorded_at,
                            before.channel, before.token_id)
    tamper(library.db, "UPDATE audit_events SET payload = :p, hash = :h WHERE seq = :seq",
           p=payload, h=digest, seq=before.seq)
    seq = record["seq"]
    assert _archive(library, plan.id).stdout.splitlines()[1] == (
        f"  核验 (check)：发现问题 (problems)：事件 {seq} 与前一事件 {seq - 1} 的哈希链接断开：事件 {seq - 1}（可能属于其他方案）"
        f"被改动或删除，或其间插入了事件 (event {seq}: previous-hash link broken: event {seq - 1}, perhaps another "
        "plan's, was changed or removed, or an event was inserted)")


def test_a_removed_record_is_reported(library, at):
    plan = _archived_plan(library, at)
    archive = json.loads(_archive(library, plan.id, "--json").stdout)
    record = {s["code"]: s for s in archive["sections"]}["legality_review"]["records"][1]
    # someone with database rights deletes the failed review's record; the event after it is a
    # task_created, which the archive does not check, so no link to it is seen broken
    tamper(library.db, "DELETE FROM audit_events WHERE seq = :seq", seq=record["seq"])
    shown = _archive(library, plan.id)
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1] == (
        f"  核验 (check)：发现问题 (problems)：待办 {record['task_id']}（合法合规性审查）已办结，但审计记录中没有它的"
        f"提交事件，该事件被删除 (task {record['task_id']}: completed, but its task_completed event is missing: the "
        "event was removed)")
    assert json.loads(_archive(library, plan.id, "--json").stdout)["verified"]["ok"] is False


def test_one_record_is_said_in_the_singular(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.do("Task_RegisterPlan")
    assert _archive(library, plan.id).stdout.splitlines()[1] == (
        "  核验 (check)：1 条记录均与审计链相符 (1 record matches the audit chain)")


@pytest.mark.parametrize("value", ["合法性审查", "legality_review"])
def test_a_diagram_names_a_procedure_by_its_chinese_name_or_code(engine, value):
    name, xml = read(BPMN / "risk_assessment.bpmn")
    engine.deploy([(name, xml.replace("风险评估".encode(), value.encode()))])


def test_a_procedure_that_is_none_of_the_five_is_refused_at_deploy(engine):
    name, xml = read(BPMN / "risk_assessment.bpmn")
    with pytest.raises(Invalid) as refused:
        engine.deploy([(name, xml.replace('value="风险评估"'.encode(), 'value="风险评价"'.encode(), 1))])
    assert "risk_assessment.bpmn" in str(refused.value) and "Task_PrepareRiskReport" in str(refused.value)
    assert "属性 procedure 的值 '风险评价' 不是五项法定决策程序之一" in str(refused.value)
    with engine.db.reader() as s:
        assert s.execute(select(ProcessDefinition)).first() is None


def test_a_plan_whose_diagram_names_no_procedure_says_so(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Implementation(library)  # implementation.bpmn is no decision: its tasks name none
        plan.do("Task_AssignResponsibility")
    archive = json.loads(_archive(library, plan.id, "--json").stdout)
    assert archive["classified"] is False and _names(archive)["其他办理记录"] == ["明确责任分工"]
    assert "全部记录列为其他办理记录" in _archive(library, plan.id).stdout.splitlines()[2]
    assert json.loads(_archive(library, _archived_plan(library, at).id, "--json").stdout)["classified"] is True


def test_a_record_keeps_the_unit_its_author_acted_for(library, at):
    """People move between units; the archive says whom they acted for then."""
    plan = _archived_plan(library, at)
    with library.db.engine.begin() as conn:  # 张伟 moves from 市财政局 to another unit afterwards
        conn.execute(text("INSERT INTO units (name) VALUES ('市信访局')"))
        conn.execute(text("UPDATE users SET unit_id = (SELECT id FROM units WHERE name = '市信访局') "
                          "WHERE username = 'zhang'"))
    archive = json.loads(_archive(library, plan.id, "--json").stdout)
    public = {s["code"]: s for s in archive["sections"]}["public_participation"]["records"]
    assert [(r["actor_name"], r["actor_unit"]) for r in public] == [("张伟", "市财政局")] * 2


def test_the_handover_period_ending_in_the_national_day_holiday_runs_to_8_october(library, at):
    """移交决策档案 has 30 days from the decision (archiveDays): from 1 September 2026 they end on
    1 October, in the holiday, so the step is due by the end of 8 October (民法典第二百零三条)."""
    with at("2026-09-01T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_HandOverArchive", Task_RegisterPlan=EVERY_PROCEDURE,
                       Task_PublicConsultation={"consultationStart": "2026-07-01", "consultationDays": 30},
                       Task_PrepareRiskReport={"riskLevel": "low"})
        assert plan.task("Task_HandOverArchive")["due_at"] == "2026-10-08T16:00:00+00:00"
