"""What each record of the decision archive says, the same on the command line, in JSON and in the
.csv/.xlsx: a step done under a delegation (who, for whom, for which unit), a plan the reform
office stopped (who, when, why, its event), a stop or withdrawal the trail no longer holds, a
record written long before or after the time it states, and a choice by its name."""
from __future__ import annotations

import csv
import json
from datetime import date

from click.testing import CliRunner
from sqlalchemy import text

from engine.archive import TOLERANCE_MINUTES
from engine.cli import main

from .conftest import FIXTURES, read
from .test_audit import tamper

MONDAY = "2026-12-07T09:00:00"  # Beijing time


def _office(engine, at):
    """The small approval; li (legal) works for 市司法局, chen (reform office) for 市委改革办."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    # moved through the office's user changes, on the trail: the archive names the unit of the day
    for username, unit in (("li", "市司法局"), ("chen", "市委改革办")):
        engine.update_user(username, actor="chen", unit=unit)
    with at(MONDAY):
        plan = engine.start("mini_approval", actor="zhang")
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "方案"})
    return plan["id"], engine.instance(plan["id"])["tasks"][0]["id"]


def _archive(engine, plan_id, *args, now=MONDAY):
    result = CliRunner().invoke(main, ["--db", engine.db.url, "--now", now, "archive", str(plan_id), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _csv(engine, plan_id, tmp_path) -> list[list[str]]:
    path = tmp_path / "决策档案.csv"
    CliRunner().invoke(main, ["--db", engine.db.url, "archive", str(plan_id), "--output", str(path)])
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_a_review_done_for_a_colleague_away_says_for_whom_and_for_which_unit(engine, people, at, tmp_path):
    """users.md §12: the archive's 办理人 is 「陈静（代 李娜）」 in every format, and the legality
    review is the 法制机构's (市司法局), not the stand-in's office's."""
    plan_id, review = _office(engine, at)
    with at(MONDAY):
        engine.claim(review, actor="li")
        engine.delegate("li", to="chen", starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 11), reason="出差",
                        actor="li")
        engine.complete(review, actor="chen", data={"decision": "approve"})
    lines = _archive(engine, plan_id).splitlines()
    [line] = [x for x in lines if "审核  [审计事件" in x]
    assert "陈静（代 李娜）（chen，市司法局（代办人单位：市委改革办））  审核" in line
    [row] = [r for r in _csv(engine, plan_id, tmp_path) if r[4] == "审核"]
    assert row[2:4] == ["陈静（代 李娜）", "市司法局（代办人单位：市委改革办）"]
    record = [r for s in json.loads(_archive(engine, plan_id, "--json"))["sections"] for r in s["records"]][-1]
    assert (record["actor_unit"], record["on_behalf_unit"]) == ("市委改革办", "市司法局")


def test_a_stopped_plan_files_who_stopped_it_when_and_why(engine, people, at, tmp_path):
    plan_id, _ = _office(engine, at)
    with at("2026-12-08T10:00:00"):
        engine.cancel_plan(plan_id, actor="chen", reason="重复发起，终止")
    lines = _archive(engine, plan_id).splitlines()
    assert lines[1] == ("  核验 (check)：1 条记录及终止记录均与审计链相符 (1 record and the stop match the audit chain)")
    stop = lines.index("终止方案 (plan stopped)：")
    assert lines[stop + 1].startswith("    2026-12-08 10:00  陈静（chen，市委改革办）  理由 (reason)：重复发起，终止  [审计事件 (event) ")
    assert lines[stop + 2] == "      撤销待办 (steps withdrawn)：审核"
    archive = json.loads(_archive(engine, plan_id, "--json"))
    assert (archive["stop"]["actor"], archive["stop"]["reason"], len(archive["stop"]["hash"])) == ("chen", "重复发起，终止", 64)
    table = _csv(engine, plan_id, tmp_path)
    assert table[-1][1].startswith("2026-12-08 10:00")  # and when written: the test's clock is fixed
    assert table[-1][:1] + table[-1][2:5] == ["终止方案", "陈静", "市委改革办", "终止方案，理由：重复发起，终止；撤销待办：审核"]
    assert table[-1][7:] == [str(archive["stop"]["seq"]), archive["stop"]["hash"]]


def test_a_stopped_plan_with_no_record_says_so_plainly(engine, people, at):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    with at(MONDAY):
        plan = engine.start("mini_approval", actor="zhang")
        engine.cancel_plan(plan["id"], actor="chen", reason="重复发起")
    assert _archive(engine, plan["id"]).splitlines()[1] == (
        "  核验 (check)：无办理记录；终止记录与审计链相符 (no records; the stop matches the audit chain)")


def test_a_stop_cut_from_the_trail_is_named(engine, people, at):
    """The trail cut back past the stop (the head moved back too): the plan is 已终止 and its step
    withdrawn, but nothing says by whom or why. The archive names both, as it names a completed
    step with no completion event."""
    plan_id, review = _office(engine, at)
    with at("2026-12-08T10:00:00"):
        engine.cancel_plan(plan_id, actor="chen", reason="重复发起，终止")
    tamper(engine.db, "DELETE FROM audit_events WHERE event_type IN ('task_cancelled', 'instance_cancelled')")
    with engine.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET last_seq = (SELECT max(seq) FROM audit_events), "
                          "last_hash = (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1)"))
    archive = json.loads(_archive(engine, plan_id, "--json"))
    assert archive["stop"] is None
    assert archive["verified"]["problems"] == [
        f"方案 {plan_id} 已终止，但审计记录中没有终止事件（instance_cancelled），谁在何时、为何终止无据可查，该事件被删除 "
        f"(plan {plan_id}: cancelled, but its instance_cancelled event is missing: who stopped it, when and why is not "
        "on record; the event was removed)",
        f"待办 {review}（审核）已撤销，但审计记录中没有它的撤销事件，该事件被删除 (task {review}: cancelled, but its "
        "task_cancelled event is missing: the event was removed)"]


def test_a_record_written_far_from_the_time_it_states_shows_both(engine, people, at, tmp_path):
    """--now (or a fixed clock) sets the time a record states; when it was written is kept too.
    Beyond the tolerance `audit verify` notes, the archive says both; a record written as it
    happened is left alone."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    plan = engine.start("mini_approval", actor="zhang")  # by the real clock
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "方案"})
    review = engine.instance(plan["id"])["tasks"][0]["id"]
    with at("2030-01-02T09:00:00"):  # dated years after it is written
        engine.claim(review, actor="li")
        engine.complete(review, actor="li", data={"decision": "approve"})
    archive = json.loads(_archive(engine, plan["id"], "--json"))
    draft, backdated = [r for s in archive["sections"] for r in s["records"]]
    assert (draft["off_clock"], backdated["off_clock"]) == (False, True)
    lines = _archive(engine, plan["id"]).splitlines()
    notes = [x for x in lines if x.startswith("      注意：实际写入于")]
    assert len(notes) == 1 and f"与所记时间相差超过 {TOLERANCE_MINUTES} 分钟" in notes[0]
    assert lines.index(notes[0]) > next(i for i, x in enumerate(lines) if "审核  [审计事件" in x)
    times = {r[4]: r[1] for r in _csv(engine, plan["id"], tmp_path)[1:]}
    assert times["起草"].count("实际写入") == 0
    assert times["审核"].startswith("2030-01-02 09:00（实际写入 ") and times["审核"].endswith("）")


def test_a_choice_is_said_by_its_name_and_the_file_speaks_chinese(engine, people, at, tmp_path):
    from openpyxl import load_workbook

    plan_id, review = _office(engine, at)
    with at(MONDAY):
        engine.claim(review, actor="li")
        engine.complete(review, actor="li", data={"decision": "approve"})
    [values] = [x for x in _archive(engine, plan_id).splitlines() if x.startswith("      审核结论")]
    assert values == "      审核结论：通过"
    assert [r[5] for r in _csv(engine, plan_id, tmp_path) if r[4] == "审核"] == ["审核结论：通过"]
    xlsx = tmp_path / "决策档案.xlsx"
    CliRunner().invoke(main, ["--db", engine.db.url, "archive", str(plan_id), "--output", str(xlsx)])
    about = {r[0].value: r[1].value for r in load_workbook(xlsx).active.iter_rows(max_row=8)}
    assert about["核验"] == "2 条记录均与审计链相符"
