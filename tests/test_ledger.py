"""The ledger (台账) with its three-colour warnings, as the reform office reads it: on the command
line, as JSON, and as the spreadsheet it opens (.xlsx, .csv), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Invalid

from .plan_helper import Plan

REGISTER = {"leadUnit": "市财政局", "responsiblePerson": "张伟", "plannedCompletion": "2027-06-30"}


def test_a_missed_deadline_is_red_until_done_then_yellow_and_the_rest_green(library, at):
    with at("2026-12-17T09:00:00"):  # 15 working days: 8 January, 1 January off by law
        late = Plan(library)
        late.run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
        on_time = Plan(library, title="推进用地管理改革方案", starter="chen")  # the office: another unit's
        on_time.run_until("Task_Research", Task_RegisterPlan={**REGISTER, "leadUnit": "市国土局",
                                                               "responsiblePerson": "郭鹏"})
    with at("2027-01-08T17:00:00"):  # the review's last day: not late yet
        assert {r["id"]: r["colour"] for r in library.ledger()} == {late.id: "green", on_time.id: "green"}
    with at("2027-01-12T09:00:00"):
        rows = library.ledger()
        assert [(r["id"], r["colour"]) for r in rows] == [(late.id, "red"), (on_time.id, "green")]
        red = rows[0]
        assert (red["lead_unit"], red["responsible_person"], red["milestone"], red["milestone_due"]) == (
            "市财政局", "张伟", "方案出台", "2027-06-30")
        # who may take it: the legal affairs body, by its name
        assert [(t["name"], t["assignee"], t["holder"]) for t in red["current"]] == [("合法合规性审查", None, "法制机构")]
        assert red["missed"] == [{"what": "合法合规性审查", "task_id": late.task("Task_LegalityReview")["id"],
                                  "due_at": "2027-01-08T16:00:00+00:00", "done_at": None, "days_late": 4,
                                  "cancelled": False, "ordered_due_at": None}]
        late.do("Task_LegalityReview")
    with at("2027-01-13T09:00:00"):
        [row] = library.ledger(colour="yellow")
        assert row["id"] == late.id and row["colour"] == "yellow"
        assert [(m["what"], m["done_at"], m["days_late"]) for m in row["missed"]] == [
            ("合法合规性审查", "2027-01-12T01:00:00+00:00", 4)]
        assert [r["id"] for r in library.ledger(unit="国土")] == [on_time.id]
        assert library.ledger(colour="red") == []


def test_a_plan_not_issued_by_its_planned_date_is_red_and_issued_late_yellow(library, at):
    """reform_plan.bpmn names its milestone with process properties: 方案出台, planned by
    plannedCompletion, reached on issueDate."""
    with at("2026-12-01T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan", Task_RegisterPlan={**REGISTER, "plannedCompletion": "2026-12-10"})
    with at("2026-12-10T23:00:00"):
        assert library.ledger(process="reform_plan")[0]["colour"] == "green"
    with at("2026-12-14T09:00:00"):
        [row] = library.ledger()
        assert row["colour"] == "red"
        assert [(m["what"], m["due_at"], m["days_late"]) for m in row["missed"]] == [
            ("方案出台", "2026-12-10T16:00:00+00:00", 4)]
        plan.do("Task_IssuePlan", issueDate="2026-12-14")
        [row] = library.ledger()
    assert (row["colour"], row["milestone_reached"]) == ("yellow", "2026-12-14")
    assert [(m["what"], m["done_at"], m["days_late"]) for m in row["missed"]] == [("方案出台", "2026-12-14", 4)]
    assert library.ledger(status="completed") == [] and library.ledger(process="filing") == []


def _cli(engine, *args):
    return CliRunner().invoke(main, ["--db", engine.db.url, "--now", "2027-01-12T09:00:00", "ledger", *args])


def test_the_reform_office_reads_the_ledger_and_saves_it_for_excel(library, at, tmp_path):
    with at("2026-12-17T09:00:00"):  # 15 working days: 8 January, 1 January off by law
        late = Plan(library)
        late.run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
        green = Plan(library, title="推进用地管理改革方案")
    result = _cli(library)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"[红 red] #{late.id} 深化财政预算管理制度改革方案（市财政局，张伟） [办理中 running]"
    # 2027 not entered: the deadline is provisional, as `tasks` says
    assert "    当前 (now)：合法合规性审查（待认领 (open)：法制机构） 期限 (due) 2027-01-08 已逾期 暂定 (provisional)" in lines
    assert "    当前 (now)：确认方案任务信息（张伟）" in lines  # held by the drafter who started it
    assert "    时间节点 (milestone)：方案出台 计划 (planned) 2027-06-30" in lines
    assert ("    延误 (missed)：合法合规性审查：期限 2027-01-08，已逾期 4 天 (due 2027-01-08, 4 days overdue)"
            in lines)
    assert lines[-1] == "共 2 个方案：红 1、黄 0、绿 1 (2 plans: 1 red, 0 yellow, 1 green)"
    as_json = json.loads(_cli(library, "--json", "--colour", "green").stdout)
    assert [p["id"] for p in as_json["plans"]] == [green.id]

    from openpyxl import load_workbook
    xlsx = tmp_path / "台账.xlsx"
    result = _cli(library, "--output", str(xlsx))
    assert result.exit_code == 0 and "已写入台账 2 个方案" in result.stderr
    sheet = load_workbook(xlsx).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:6] == ["编号", "业务编号", "方案名称", "流程", "状态", "预警"]
    assert rows[1][0] == late.id and rows[1][5] == "红" and rows[1][6] == "市财政局"
    assert rows[1][8:18] == ["方案出台", "2027-06-30", None, None, None, None, None, "合法合规性审查（待认领：法制机构）",
                             "2027-01-08（暂定）", "合法合规性审查：期限 2027-01-08，已逾期 4 天"]  # provisional, as above
    assert sheet.cell(2, 6).fill.start_color.rgb.endswith("FFC7CE")  # red
    assert sheet.cell(3, 6).fill.start_color.rgb.endswith("C6EFCE")  # green
    assert sheet.freeze_panes == "A2"

    csv_file = tmp_path / "台账.csv"
    assert _cli(library, "--output", str(csv_file)).exit_code == 0
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese only with the mark
    with open(csv_file, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert [r[5] for r in table] == ["预警", "红", "绿"]


@pytest.mark.parametrize("name", ["ledger.txt", "ledger"])
def test_a_file_that_is_neither_xlsx_nor_csv_is_refused_and_not_written(library, tmp_path, name):
    result = _cli(library, "--output", str(tmp_path / name))
    assert result.exit_code != 0
    assert "台账文件须以 .xlsx 或 .csv 结尾" in result.stderr
    assert not (tmp_path / name).exists()


def test_an_implementation_is_on_the_ledger_with_its_own_milestone(library, at):
    """implementation.bpmn's milestone is 举措全部完成 by its planned completion date, reached at
    the end of the month whose table says every measure is done: January's table, filed on 2 Feb,
    reaches it on 31 Jan, a day after the planned 30 Jan."""
    from .test_implementation import _report, _started
    plan = _started(library, at, plannedCompletion="2026-01-30")
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    with at("2026-02-02T09:00:00"):
        [row] = library.ledger(process="implementation")
    assert (row["lead_unit"], row["milestone"], row["milestone_due"]) == ("市财政局", "举措全部完成", "2026-01-30")
    assert row["colour"] == "red" and [(m["what"], m["days_late"]) for m in row["missed"]] == [("举措全部完成", 3)]
    _report(plan, at, "2026-02-02T10:00:00", 3, 0, 0)
    with at("2026-02-02T11:00:00"):
        [row] = library.ledger(process="implementation")
    assert (row["colour"], row["milestone_reached"]) == ("yellow", "2026-01-31")
    assert [(m["what"], m["done_at"], m["days_late"]) for m in row["missed"]] == [("举措全部完成", "2026-01-31", 1)]


def test_an_implementation_done_by_its_planned_month_end_is_on_time_though_reported_later(library, at):
    from .test_implementation import _report, _started
    plan = _started(library, at, plannedCompletion="2026-01-31")
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-02-06T10:00:00", 3, 0, 0)
    with at("2026-02-06T11:00:00"):
        [row] = library.ledger(process="implementation")
    assert (row["colour"], row["milestone_reached"], row["missed"]) == ("green", "2026-01-31", [])


def test_the_warning_is_coloured_on_a_terminal_and_plain_in_a_file(library, at):
    with at("2026-12-18T09:00:00"):
        Plan(library).run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
    args = ["--db", library.db.url, "--now", "2027-01-12T09:00:00", "ledger"]
    terminal = CliRunner().invoke(main, args, color=True).stdout.splitlines()[0]
    assert terminal.startswith("\x1b[31m\x1b[1m[红 red]\x1b[0m #")  # red, bold
    assert "\x1b[" not in CliRunner().invoke(main, args).stdout


def test_a_file_that_cannot_be_written_is_refused_in_a_sentence_not_a_traceback(library, tmp_path):
    for name in ("台账.xlsx", "台账.csv"):
        result = _cli(library, "--output", str(tmp_path / "no-such-folder" / name))
        assert result.exit_code != 0 and not isinstance(result.exception, OSError)
        assert f"无法写入台账文件 {tmp_path / 'no-such-folder' / name}" in result.stderr


def test_a_file_is_written_whole_or_not_at_all(tmp_path):
    """A write that fails half-way leaves the earlier file as it was and no part file beside it."""
    from engine.tables import save

    def rows_then_failure():
        yield [1, "深化财政预算管理制度改革方案"]
        raise RuntimeError("the disk filled up")
    earlier = tmp_path / "台账.csv"
    earlier.write_text("昨天的台账", encoding="utf-8")
    with pytest.raises(RuntimeError):
        save(str(earlier), ("台账", "ledger"), ("编号", "方案名称"), rows_then_failure(), lambda book: None)
    assert earlier.read_text(encoding="utf-8") == "昨天的台账"
    assert [p.name for p in tmp_path.iterdir()] == ["台账.csv"]


def test_a_plan_that_ended_without_its_milestone_is_judged_as_it_stood_when_it_ended(library, at):
    """A plan rejected before its planned issuance date is not counted overdue ever after; one
    rejected after it stays red, late by the days up to its end, not by more each day."""
    rejected = {}
    for planned, ended in (("2026-12-10", "2026-12-01T09:00:00"), ("2026-12-10", "2026-12-14T09:00:00")):
        with at("2026-12-01T08:00:00"):
            plan = Plan(library)
            plan.run_until("Task_Countersign", Task_RegisterPlan={**REGISTER, "plannedCompletion": planned})
        with at(ended):
            plan.do("Task_Countersign", decision="reject")
            plan.do("Task_HandOverArchive")  # the rejection's records archived: the plan ends
        rejected[ended[:10]] = plan.id
    for day in ("2026-12-20T09:00:00", "2027-06-20T09:00:00"):
        with at(day):
            rows = {r["id"]: r for r in library.ledger(status="completed")}
        assert rows[rejected["2026-12-01"]]["colour"] == "green" and rows[rejected["2026-12-01"]]["missed"] == []
        late = rows[rejected["2026-12-14"]]
        assert late["colour"] == "red"
        assert [(m["what"], m["done_at"], m["days_late"]) for m in late["missed"]] == [("方案出台", None, 4)]


def test_a_rejected_plan_is_judged_on_the_day_of_its_rejection_not_of_its_archive_handover(library, at, tmp_path):
    """After a rejection the plan stays open for the archive's handover (up to 30 days, or late):
    方案出台 is judged as it stood when the plan was rejected, not missed meanwhile or thereafter."""
    rejected = {}
    for day in ("2026-12-01T09:00:00", "2026-12-14T09:00:00"):
        with at(day):
            plan = Plan(library)
            plan.run_until("Task_Countersign", Task_RegisterPlan={**REGISTER, "plannedCompletion": "2026-12-10"})
            plan.do("Task_Countersign", decision="reject")
        rejected[day[:10]] = plan
    early, late = rejected["2026-12-01"], rejected["2026-12-14"]
    with at("2026-12-20T09:00:00"):  # the planned date passed, the handover of the early one still open
        rows = {r["id"]: r for r in library.ledger()}
    assert rows[early.id]["colour"] == "green" and rows[early.id]["missed"] == []
    assert [(m["what"], m["days_late"]) for m in rows[late.id]["missed"]] == [("方案出台", 4)]
    # still running, green, and handing over its archive: the ledger says it was not approved
    assert (rows[early.id]["status"], rows[early.id]["milestone_dropped"]) == ("running", "2026-12-01")
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-12-20T09:00:00", "ledger"]).stdout
    assert ("    时间节点 (milestone)：方案出台 计划 (planned) 2026-12-10，2026-12-01 未获通过，不再办理 "
            "(dropped: not approved)\n") in shown
    from openpyxl import load_workbook
    CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-12-20T09:00:00", "ledger", "--output",
                              str(tmp_path / "台账.xlsx")])
    sheet = load_workbook(tmp_path / "台账.xlsx").active
    reached = [r[10].value for r in sheet.iter_rows(min_row=2) if r[0].value == early.id]
    assert [sheet.cell(1, 11).value, *reached] == ["节点完成日期", "未获通过（2026-12-01）"]
    with at("2027-01-05T09:00:00"):  # the early one's handover, four days late
        early.do("Task_HandOverArchive", archiveHandedOverOn="2027-01-05")
        late.do("Task_HandOverArchive", archiveHandedOverOn="2027-01-05")
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2027-06-20T09:00:00", "ledger"]).stdout
    assert (f"[黄 yellow] #{early.id} 深化财政预算管理制度改革方案（市财政局，张伟） [已办结 completed]\n"
            "    时间节点 (milestone)：方案出台 计划 (planned) 2026-12-10，2026-12-01 未获通过，不再办理 (dropped: not approved)\n"
            "    延误 (missed)：移交决策档案：期限 2026-12-31，迟 5 天完成 (due 2026-12-31, done 5 days late)\n") in shown
    assert "方案出台：期限 2026-12-10，已逾期 4 天 (due 2026-12-10, 4 days overdue)" in shown  # the late one's, not 26


def test_text_people_entered_is_never_a_formula_in_the_spreadsheet(library, at, tmp_path):
    from openpyxl import load_workbook

    title = '=HYPERLINK("http://example.com/","点此查看")'
    with at("2026-12-18T09:00:00"):
        Plan(library, title=title, starter="chen").run_until(
            "Task_Research", Task_RegisterPlan={**REGISTER, "leadUnit": "@市财政局"})
    assert _cli(library, "--output", str(tmp_path / "台账.xlsx")).exit_code == 0
    row = load_workbook(tmp_path / "台账.xlsx").active[2]
    assert (row[2].value, row[2].data_type) == (title, "s") and row[6].value == "@市财政局"
    assert _cli(library, "--output", str(tmp_path / "台账.csv")).exit_code == 0
    with open(tmp_path / "台账.csv", encoding="utf-8-sig", newline="") as f:
        cells = list(csv.reader(f))[1]
    assert (cells[2], cells[6]) == ("'" + title, "'@市财政局")  # as Excel shows typed text


def test_a_control_character_pasted_into_a_form_does_not_stop_the_spreadsheets(library, at, tmp_path):
    """A lead unit pasted from another program with a bell character (U+0007) in it: the ledger
    and the decision archive are still saved as .xlsx, the character shown as <U+0007>, not a
    traceback and no file."""
    from openpyxl import load_workbook

    with at("2026-12-18T09:00:00"):
        plan = Plan(library, starter="chen")
        plan.run_until("Task_Research", Task_RegisterPlan={**REGISTER, "leadUnit": "市财政\a局"})
    ledger = _cli(library, "--output", str(tmp_path / "台账.xlsx"))
    assert ledger.exit_code == 0, ledger.output
    assert load_workbook(tmp_path / "台账.xlsx").active[2][6].value == "市财政<U+0007>局"
    assert load_workbook(tmp_path / "台账.xlsx")["按牵头单位"]["A2"].value == "市财政<U+0007>局"
    archive = CliRunner().invoke(main, ["--db", library.db.url, "archive", str(plan.id),
                                        "--output", str(tmp_path / "档案.xlsx")])
    assert archive.exit_code == 0, archive.output
    cells = [c.value for r in load_workbook(tmp_path / "档案.xlsx").active.iter_rows() for c in r]
    assert "市财政<U+0007>局" in cells and any("市财政<U+0007>局" in str(c) for c in cells[10:])


def test_a_plan_and_its_implementation_are_told_apart_by_their_business_keys(library, at):
    with at("2026-12-18T09:00:00"):
        ids = [library.start("reform_plan", actor="zhang", title="深化非公经济领域改革方案", business_key=key)["id"]
               for key in ("DT-2015-08", "DT-2015-08-LS")]
    plans = [line.split(" [办理中")[0] for line in _cli(library).stdout.splitlines() if line.startswith("[")]
    # started by a drafter without a lead unit: his own unit's
    assert plans == [f"[绿 green] #{ids[0]} DT-2015-08 深化非公经济领域改革方案（市财政局）",
                     f"[绿 green] #{ids[1]} DT-2015-08-LS 深化非公经济领域改革方案（市财政局）"]


def test_a_task_withdrawn_after_its_deadline_counts_as_missed_and_closed(engine, people, at):
    """一个月内反馈 is due in 7 days; a month on, the interrupting timer withdraws it and 督办 opens.
    The deadline was missed and the task is closed: yellow, said as withdrawn, not as done."""
    from .conftest import FIXTURES
    xml = (FIXTURES / "corpus" / "timer_boundary_interrupting.bpmn").read_text(encoding="utf-8")
    task = '<bpmn:userTask id="Activity_1wk27w5" name="一个月内反馈" camunda:candidateGroups="participant">'
    assert task in xml
    engine.deploy([("timer_boundary_interrupting.bpmn", xml.replace(
        task, task.replace('camunda:candidateGroups', 'camunda:dueDate="P7D" camunda:candidateGroups')).encode())])
    with at("2026-01-31T10:00:00"):
        plan = engine.start("corpus_timer_boundary_interrupting", actor="zhang")
    with at("2026-02-09T10:00:00"):
        assert engine.ledger()[0]["colour"] == "red"
    with at("2026-02-28T10:00:01"):
        engine.fire_due_timers()
        [row] = engine.ledger()
    assert row["id"] == plan["id"] and row["colour"] == "yellow"
    assert [(m["what"], m["cancelled"], m["days_late"]) for m in row["missed"]] == [("一个月内反馈", True, 21)]
    result = CliRunner().invoke(main, ["--db", engine.db.url, "--now", "2026-02-28T11:00:00", "ledger"])
    assert "    延误 (missed)：一个月内反馈：期限 2026-02-07 10:00，逾期 21 天后撤销 (due 2026-02-07 10:00, withdrawn 21 days late)" \
        in result.stdout.splitlines()


def test_the_ledger_per_lead_unit_for_the_annual_assessment(library, at, tmp_path):
    """Two plans of 市财政局 whose legality reviews are both 4 days late, and one of 市国土局
    reviewed on time: the unit with red plans comes first, its delays counted and added up."""
    with at("2026-12-17T09:00:00"):  # 15 working days: 8 January, 1 January off by law
        for register in (REGISTER, REGISTER, {**REGISTER, "leadUnit": "市国土局"}):
            # the office registers another unit's plan
            Plan(library, starter="zhang" if register is REGISTER else "chen").run_until(
                "Task_LegalityReview", Task_RegisterPlan=register)
    with at("2027-01-05T09:00:00"):
        third = library.ledger(unit="国土")[0]
        review = third["current"][0]["task_id"]
        library.claim(review, actor="li")
        library.complete(review, actor="li", data={"legalityResult": "pass", "legalityOpinion": "同意"})
    args = ["--db", library.db.url, "--now", "2027-01-12T09:00:00", "ledger", "--by-unit"]
    lines = CliRunner().invoke(main, args).stdout.splitlines()
    assert lines == [
        "市财政局：2 个方案，红 2、黄 0、绿 0；延误 2 项，共 8 天 (2 plans: 2 red, 0 yellow, 0 green; 2 delays, 8 days)",
        "市国土局：1 个方案，红 0、黄 0、绿 1；延误 0 项，共 0 天 (1 plan: 0 red, 0 yellow, 1 green; 0 delays, 0 days)"]
    units = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)["units"]
    assert [(u["lead_unit"], u["plans"], u["red"], u["days_late"]) for u in units] == [
        ("市财政局", 2, 2, 8), ("市国土局", 1, 0, 0)]
    from openpyxl import load_workbook
    assert CliRunner().invoke(main, [*args[:-1], "--output", str(tmp_path / "台账.xlsx")]).exit_code == 0
    sheet = load_workbook(tmp_path / "台账.xlsx")["按牵头单位"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["牵头单位", "方案数", "红", "黄", "绿", "延误事项", "延误天数合计", "举措数", "已完成举措"],
        ["市财政局", 2, 2, 0, 0, 2, 8, 0, 0], ["市国土局", 1, 0, 0, 1, 0, 0, 0, 0]]
    # a .csv holds one table: with --by-unit, the sums asked for, not the plans
    written = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "按单位.csv")])
    assert written.exit_code == 0 and "已写入按牵头单位汇总到" in written.stderr
    with open(tmp_path / "按单位.csv", encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["牵头单位", "方案数", "红", "黄", "绿", "延误事项", "延误天数合计", "举措数", "已完成举措"],
            ["市财政局", "2", "2", "0", "0", "2", "8", "0", "0"], ["市国土局", "1", "0", "0", "1", "0", "0", "0", "0"]]


def test_a_plan_in_implementation_shows_its_measures_as_its_last_table_rated_them(library, at, tmp_path):
    """DOMAIN.md: each measure is rated 已完成 / 已启动未完成 / 未启动; implementation.bpmn names the
    counts with the process properties ledgerMeasures, ledgerMeasuresDone, ledgerMeasuresStarted."""
    from openpyxl import load_workbook

    from .test_implementation import _report, _started

    plan = _started(library, at, measureCount=5, leadUnit="市财政局")  # the office starts it for 市财政局
    with at("2026-01-20T09:00:00"):
        [row] = library.ledger(process="implementation")
    assert row["measures"] == {"count": 5, "done": None, "started": None, "not_started": None}
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-02-02T10:00:00", 2, 1, 2)
    with at("2026-02-03T09:00:00"):
        [row] = library.ledger()
        Plan(library).run_until("Task_Research", Task_RegisterPlan=REGISTER)  # no measures: none shown
    assert row["measures"] == {"count": 5, "done": 2, "started": 1, "not_started": 2}
    args = ["--db", library.db.url, "--now", "2026-02-03T09:00:00", "ledger"]
    lines = CliRunner().invoke(main, args).stdout.splitlines()
    assert "    举措 (measures)：共 5 项，已完成 2、已启动未完成 1、未启动 2 (5 measures: 2 done, 1 started, 2 not started)" in lines
    assert sum(line.startswith("    举措 (measures)") for line in lines) == 1
    by_unit = CliRunner().invoke(main, [*args, "--by-unit"]).stdout.splitlines()
    assert by_unit == ["市财政局：2 个方案，红 0、黄 0、绿 2；延误 0 项，共 0 天；举措 5 项，已完成 2 项 (2 plans: 0 red, 0 yellow, "
                       "2 green; 0 delays, 0 days; 5 measures, 2 done)"]
    assert CliRunner().invoke(main, [*args, "--output", str(tmp_path / "台账.xlsx")]).exit_code == 0
    rows = [[c.value for c in r] for r in load_workbook(tmp_path / "台账.xlsx").active.iter_rows()]
    assert rows[0][11:15] == ["举措数", "已完成", "已启动未完成", "未启动"]
    assert [r[11:15] for r in rows[1:]] == [[5, 2, 1, 2], [None, None, None, None]]


# ------------------------------------------------------------------ a year's ledger (年度台账)
def _years_plans(library, at) -> dict:
    """2026's plans, one still open, one filed and one stopped that year, one stopped only after
    New Year; 2027's, one started ten minutes into it (Beijing time: still 2026 in UTC)."""
    with at("2026-03-02T09:00:00"):
        open_ = Plan(library, title="深化财政预算管理制度改革方案")
        open_.run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
        filed = Plan(library, title="推进用地管理改革方案")
        filed.finish()
        assert filed.refresh()["status"] == "completed"
        stopped = Plan(library, title="深化科技体制改革方案")
        late_stop = Plan(library, title="深化金融领域改革方案")
    with at("2026-12-31T23:50:00"):  # 15:50 UTC: closed before 2027 began in Beijing
        library.cancel_plan(stopped.id, reason="与其他方案合并", actor="chen")
    with at("2027-01-01T00:10:00"):  # 2026-12-31 16:10 UTC, but 2027 in Beijing
        new = Plan(library, title="深化国资国企改革方案")
    with at("2027-01-05T09:00:00"):
        library.cancel_plan(late_stop.id, reason="与其他方案合并", actor="chen")
    return {"open": open_.id, "filed": filed.id, "stopped": stopped.id, "late_stop": late_stop.id, "new": new.id}


def test_a_years_ledger_has_its_plans_and_those_carried_over_not_those_closed_before_it(library, at):
    plans = _years_plans(library, at)
    with at("2027-01-12T09:00:00"):
        rows = {r["id"]: r["carried_over"] for r in library.ledger(year=2027)}
        # open on 1 January: carried over, the one stopped on 5 January too; filed or stopped in 2026: not there
        assert rows == {plans["open"]: True, plans["late_stop"]: True, plans["new"]: False}
        assert {r["id"]: r["carried_over"] for r in library.ledger(year=2026)} == {
            plans["open"]: False, plans["filed"]: False, plans["stopped"]: False, plans["late_stop"]: False}
        assert library.ledger(year=2025) == []
        # a year not yet begun: what is open now would be carried over into it
        assert {r["id"]: r["carried_over"] for r in library.ledger(year=2028)} == {
            plans["open"]: True, plans["new"]: True}
        # every plan ever started, as before, none of them carried over
        assert {r["id"]: r["carried_over"] for r in library.ledger()} == {i: False for i in plans.values()}
        # the year filter with the others
        assert [r["id"] for r in library.ledger(year=2027, status="running")] == [plans["open"], plans["new"]]
        assert [r["id"] for r in library.ledger(year=2027, colour="red")] == [plans["open"]]
        assert library.ledger_years() == [2027, 2026]
    with at("2029-06-01T09:00:00"):  # years with no plan started still carry the open one
        assert library.ledger_years() == [2029, 2028, 2027, 2026]
        assert {r["id"]: r["carried_over"] for r in library.ledger(year=2029)} == {
            plans["open"]: True, plans["new"]: True}
    with pytest.raises(Invalid, match="年度须在 1900 至 2100 之间"):
        library.ledger(year=1899)


def test_no_plan_yet_offers_this_year_alone(library, at):
    with at("2027-01-12T09:00:00"):
        assert library.ledger_years() == [2027] and library.ledger(year=2027) == []


def test_the_command_reads_a_years_ledger_marking_the_plans_carried_over(library, at, tmp_path):
    plans = _years_plans(library, at)
    result = _cli(library, "--year", "2027")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("2027年度改革方案台账：2027 年发起及以前年度结转（1 月 1 日尚未办结）的方案 "
                        "(the 2027 ledger: plans started in 2027 and those carried over, still open on 1 January)")
    assert (f"[红 red] #{plans['open']} 深化财政预算管理制度改革方案（市财政局，张伟） [办理中 running] "
            "[结转 carried over]") in lines
    assert f"[绿 green] #{plans['new']} 深化国资国企改革方案（市财政局） [办理中 running]" in lines
    assert not any(f"#{plans['filed']} " in line or f"#{plans['stopped']} " in line for line in lines)
    assert lines[-2:] == ["共 3 个方案：红 1、黄 0、绿 2 (3 plans: 1 red, 0 yellow, 2 green)",
                          "其中以前年度结转 2 个 (2 carried over from earlier years)"]

    as_json = json.loads(_cli(library, "--year", "2027", "--json").stdout)
    assert as_json["year"] == 2027
    assert {p["id"]: p["carried_over"] for p in as_json["plans"]} == {
        plans["open"]: True, plans["late_stop"]: True, plans["new"]: False}
    # without --year: every plan, the JSON as it was (the same fields, carried_over added, always false)
    everything = json.loads(_cli(library, "--json").stdout)
    assert set(everything) == {"plans"} and len(everything["plans"]) == 5
    assert {"id", "colour", "status", "current", "missed", "started_at", "ended_at"} < set(everything["plans"][0])
    assert not any(p["carried_over"] for p in everything["plans"])
    units = json.loads(_cli(library, "--year", "2026", "--by-unit", "--json").stdout)
    assert units["year"] == 2026 and sum(u["plans"] for u in units["units"]) == 4

    refused = _cli(library, "--year", "1899")
    assert refused.exit_code != 0 and "年度须在 1900 至 2100 之间：1899" in refused.stderr

    from openpyxl import load_workbook
    xlsx = tmp_path / "台账.xlsx"
    result = _cli(library, "--year", "2027", "--output", str(xlsx))
    assert result.exit_code == 0 and "已写入2027年度台账 3 个方案" in result.stderr
    book = load_workbook(xlsx)
    sheet = book.worksheets[0]
    assert sheet.title == "2027年度改革方案台账"
    table = [[c.value for c in r] for r in sheet.iter_rows()]
    assert table[0][-3:] == ["发起时间", "办结时间", "结转"]
    assert {r[0]: r[-1] for r in table[1:]} == {plans["open"]: "是", plans["late_stop"]: "是", plans["new"]: None}
    csv_file = tmp_path / "台账.csv"
    assert _cli(library, "--year", "2027", "--output", str(csv_file)).exit_code == 0
    with open(csv_file, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "结转" and sorted(r[-1] for r in rows[1:]) == ["", "是", "是"]
    # every plan's file has no such column, as before
    assert _cli(library, "--output", str(csv_file)).exit_code == 0
    with open(csv_file, encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[-1] == "办结时间"
