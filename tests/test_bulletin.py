"""The reform office's quarterly bulletin (季通报, `reformflow bulletin`): plans under quarterly
reporting driven through the first quarter of 2026 on SQLite and PostgreSQL, read as the reform
office reads the bulletin in mid-April: each plan's March table, whether it was filed on time and
approved by the special group, and the plans whose table is missing, late or not approved first."""
from __future__ import annotations

import csv
import json
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from engine.bulletin import Quarter, last_ended, parse_quarter
from engine.cli import main
from engine.errors import Invalid

from .test_implementation import _report, _started

APRIL = "2026-04-15T09:00:00"


def _first_quarter(library, at):
    """Four plans started on 15 January 2026 (3 measures each), their tables for January and
    February filed in early February and March, except where said:
    - filed: quarterly; March's table filed on 3 April, returned on the 7th, revised and approved on the 8th;
    - missing: quarterly (市国资委); March's table never filed (due 10 April);
    - late: quarterly (市科技局); February's table filed only on 2 April (so overdue at the quarter's
      end), March's on 12 April, two days late, not reviewed yet;
    - monthly: no quarterly reporting; March's table filed on 3 April."""
    plans = {"filed": _started(library, at, quarterlyReporting=True, key="Q-FILED"),
             "missing": _started(library, at, quarterlyReporting=True, key="Q-MISSING", leadUnit="市国资委"),
             "late": _started(library, at, quarterlyReporting=True, key="Q-LATE", leadUnit="市科技局"),
             "monthly": _started(library, at, key="M-ONLY", leadUnit="市工商局")}
    on_time = [plans[name] for name in ("filed", "missing", "monthly")]
    plans["filed"].fire_timers_at(at, "2026-02-01T00:00:01")
    for plan in plans.values():
        _report(plan, at, "2026-02-05T10:00:00", 0, 2, 1)
    plans["filed"].fire_timers_at(at, "2026-03-01T00:00:01")
    for plan in on_time:
        _report(plan, at, "2026-03-05T10:00:00", 0, 2, 1)
    plans["filed"].fire_timers_at(at, "2026-04-01T00:00:01")  # March ends; February's table of `late` overdue since 10 March
    _report(plans["filed"], at, "2026-04-03T10:00:00", 1, 2, 0, problemsMet="资金未到位")
    _report(plans["monthly"], at, "2026-04-03T10:00:00", 1, 1, 1)
    with at("2026-04-07T10:00:00"):
        plans["filed"].do("Task_ReviewQuarter", quarterReviewDecision="return", quarterReviewOpinion="已完成项数与附件不符")
    with at("2026-04-08T10:00:00"):
        plans["filed"].do("Task_ReviseQuarterReport", measuresDone=2, measuresStarted=1, measuresNotStarted=0,
                          progressSummary="两项已完成，附件已补", problemsMet="资金未到位")
        plans["filed"].do("Task_ReviewQuarter", quarterReviewDecision="approve", quarterReviewOpinion="核实无误，报改革办")
    _report(plans["late"], at, "2026-04-02T10:00:00", 0, 3, 0)  # February's
    plans["late"].fire_timers_at(at, "2026-04-02T10:00:01")  # March had ended: its table opens
    _report(plans["late"], at, "2026-04-12T10:00:00", 1, 2, 0)
    return plans


def test_the_bulletin_puts_the_missing_late_and_unapproved_tables_first_with_the_reviewed_figures(library, at):
    plans = _first_quarter(library, at)
    with at(APRIL):
        result = library.bulletin("2026Q1")
    assert (result["quarter"], result["label"], result["report_month"]) == ("2026Q1", "2026年第一季度", "2026-03")
    rows = {r["business_key"]: r for r in result["plans"]}
    # only the quarterly plans, the one that did not file first, then the one not approved yet
    assert [r["business_key"] for r in result["plans"]] == ["Q-MISSING", "Q-LATE", "Q-FILED"]
    assert "others" not in result
    missing = rows["Q-MISSING"]
    assert (missing["standing"], missing["attention"], missing["lead_unit"]) == ("missing", True, "市国资委")
    assert (missing["filed_at"], missing["table"], missing["due_at"]) == (None, None, "2026-04-10T16:00:00+00:00")
    assert missing["review"]["state"] == "not_started"
    late = rows["Q-LATE"]
    assert (late["standing"], late["attention"], late["days_late"], late["review"]["state"]) == (
        "unreviewed", True, 2, "awaiting")
    assert late["filed_at"] == "2026-04-12T02:00:00+00:00"
    # the quarter's end: February's table of Q-LATE was open and overdue then, so red; filed since, yellow now
    assert late["colour"] == "red"
    assert [m["what"] for m in late["missed"]] == ["报送月度进展"] and late["missed"][0]["done_at"] is None
    assert {r["id"]: r["colour"] for r in library.ledger(process="implementation")}[plans["late"].id] == "yellow"
    filed = rows["Q-FILED"]
    assert (filed["standing"], filed["attention"], filed["days_late"], filed["colour"]) == ("on_time", False, 0, "green")
    assert filed["table"] == {"measures": 3, "done": 2, "started": 1, "not_started": 0, "progress": "两项已完成，附件已补",
                              "problems": "资金未到位", "revised": True}
    review = filed["review"]
    assert (review["state"], review["returns"], review["opinion"]) == ("approved", 1, "核实无误，报改革办")
    assert (review["reviewed_at"], review["reviewed_by"]) == ("2026-04-08T02:00:00+00:00", "孙强")
    assert result["summary"] == {"plans": 3, "attention": 2, "missing": 1, "unreviewed": 1, "late": 0, "on_time": 1,
                                 "due": 0, "not_required": 0, "cancelled": 0}


def test_the_other_plans_in_implementation_follow_as_a_second_part_and_the_unit_filter_keeps_one(library, at):
    _first_quarter(library, at)
    with at(APRIL):
        result = library.bulletin("2026年第一季度", everything=True)
        [other] = result["others"]
        assert (other["business_key"], other["standing"], other["review"]) == ("M-ONLY", "on_time", None)
        assert (other["table"]["done"], other["table"]["started"], other["table"]["not_started"]) == (1, 1, 1)
        assert [r["business_key"] for r in library.bulletin("2026Q1", unit="国资委")["plans"]] == ["Q-MISSING"]


def test_a_table_not_due_yet_does_not_stand_out_and_a_quarter_before_the_start_is_empty(library, at):
    _first_quarter(library, at)
    with at("2026-04-09T09:00:00"):  # the day before the tables are due: Q-MISSING's is only not in yet
        rows = {r["business_key"]: r for r in library.bulletin("2026Q1")["plans"]}
        assert (rows["Q-MISSING"]["standing"], rows["Q-MISSING"]["attention"]) == ("due", False)
    with at(APRIL):
        assert library.bulletin("2025Q4")["plans"] == []


def _cli(library, *args):
    return CliRunner().invoke(main, ["--db", library.db.url, "--now", APRIL, "bulletin", *args])


def test_the_command_prints_the_bulletin_and_writes_the_xlsx_the_office_circulates(library, at, tmp_path):
    _first_quarter(library, at)
    lines = _cli(library, "--quarter", "2026Q1").stdout.splitlines()
    assert lines[0].startswith("2026年第一季度改革项目进展通报")
    marked = [line for line in lines if "【！】" in line]
    assert len(marked) == 2 and "Q-MISSING" in marked[0] and "逾期未报送" in marked[0] and "Q-LATE" in marked[1]
    assert any("审核通过 (approved)，退回 1 次" in line for line in lines)
    assert lines[-1].startswith("  共 3 个方案，需关注 2 个")
    as_json = json.loads(_cli(library, "--quarter", "2026Q1", "--json").stdout)
    assert [r["business_key"] for r in as_json["plans"]] == ["Q-MISSING", "Q-LATE", "Q-FILED"]

    xlsx = tmp_path / "季度通报.xlsx"
    result = _cli(library, "--quarter", "2026Q1", "--all", "--output", str(xlsx))
    assert result.exit_code == 0 and "已写入2026年第一季度通报 4 个方案" in result.stderr
    sheet = load_workbook(xlsx).active
    assert sheet.title == "季度通报" and sheet["A1"].value.startswith("2026年第一季度改革项目进展通报")
    header = [c.value for c in sheet[2]]
    rows = {r[2]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert list(rows) == ["Q-MISSING", "Q-LATE", "Q-FILED", "M-ONLY"]
    assert (rows["Q-MISSING"]["报送情况"], rows["Q-MISSING"]["报送时间"], rows["Q-MISSING"]["报送期限"]) == (
        "逾期未报送", None, "2026-04-10")
    assert (rows["Q-LATE"]["报送情况"], rows["Q-LATE"]["迟报天数"], rows["Q-LATE"]["审核情况"], rows["Q-LATE"]["季末预警"]) == (
        "未审核通过", 2, "待专项小组审核", "红")
    filed = rows["Q-FILED"]
    assert (filed["类别"], filed["审核情况"], filed["退回次数"], filed["审核意见"]) == (
        "季末报专项小组审核", "审核通过", 1, "核实无误，报改革办")
    assert (filed["举措数"], filed["已完成"], filed["已启动未完成"], filed["未启动"], filed["存在的问题和困难"]) == (
        3, 2, 1, 0, "资金未到位")
    assert (rows["M-ONLY"]["类别"], rows["M-ONLY"]["审核情况"]) == ("其他实施中方案", "不经专项小组审核")
    # the missing table's cell filled red, as the ledger fills its warnings
    standing = header.index("报送情况")
    assert sheet.cell(3, standing + 1).fill.start_color.rgb.endswith("FFC7CE")

    path = tmp_path / "季度通报.csv"
    assert _cli(library, "--quarter", "2026Q1", "--output", str(path)).exit_code == 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:4] == ["类别", "编号", "业务编号", "方案名称"] and [r[2] for r in table[1:]] == [
        "Q-MISSING", "Q-LATE", "Q-FILED"]


def test_a_quarter_not_written_as_one_is_refused_with_what_to_write(library):
    result = _cli(library, "--quarter", "2026Q5", "--json")
    assert result.exit_code != 0 and json.loads(result.stdout)["error"] == "invalid"
    assert "2026Q4" in _cli(library, "--quarter", "明年").stderr


@pytest.mark.parametrize("text", ["2026Q4", "2026q4", "2026-Q4", "2026年第四季度", "2026年第4季度", "2026年四季度",
                                  "２０２６Ｑ４", "２０２６Q４", "２０２６年第４季度", " 2026 Q 4 "])
def test_a_quarter_is_read_as_people_write_it(text):
    assert parse_quarter(text) == Quarter(2026, 4)


@pytest.mark.parametrize("text", ["2026Q0", "2026年第五季度", "Q4", "2026", "٢٠٢٦Q4"])
def test_what_is_not_a_quarter_is_refused(text):
    with pytest.raises(Invalid, match="2026Q4"):
        parse_quarter(text)


@pytest.mark.parametrize("quarter", ["0000Q1", "0001Q1", "9999Q4", "1899Q4", "3000Q1", "2101Q1"])
def test_a_year_no_bulletin_can_be_of_is_refused_not_a_traceback(library, quarter):
    result = _cli(library, "--quarter", quarter, "--json")
    assert result.exit_code == 3, result.output
    # the years every command takes (calendar, --now, supervision --year): one range
    assert json.loads(result.stdout)["error"] == "invalid" and "1900 至 2100" in json.loads(result.stdout)["message"]


def test_by_default_the_bulletin_is_of_the_latest_quarter_that_has_ended():
    assert last_ended(date(2026, 4, 15)) == Quarter(2026, 1)
    assert last_ended(date(2026, 1, 5)) == Quarter(2025, 4)
    assert (Quarter(2026, 4).last_day, Quarter(2026, 1).last_month) == (date(2026, 12, 31), date(2026, 3, 1))


def test_a_returned_table_a_plan_done_early_and_a_cancelled_plan_each_say_so(library, at):
    returned = _started(library, at, quarterlyReporting=True, key="Q-RETURNED")
    done = _started(library, at, quarterlyReporting=True, key="Q-DONE")
    stopped = _started(library, at, quarterlyReporting=True, key="Q-STOPPED")
    returned.fire_timers_at(at, "2026-02-01T00:00:01")
    _report(done, at, "2026-02-03T10:00:00", 3, 0, 0)  # every measure done in January: no more tables
    for month_ends, day in (("2026-02-01", "02-05"), ("2026-03-01", "03-05")):
        returned.fire_timers_at(at, f"{month_ends}T00:00:01")
        _report(returned, at, f"2026-{day}T10:00:00", 0, 2, 1)
    with at("2026-03-20T10:00:00"):
        library.cancel_plan(stopped.id, reason="重复发起", actor="chen")
    returned.fire_timers_at(at, "2026-04-01T00:00:01")
    _report(returned, at, "2026-04-03T10:00:00", 1, 2, 0)
    with at("2026-04-07T10:00:00"):
        returned.do("Task_ReviewQuarter", quarterReviewDecision="return", quarterReviewOpinion="请补充附件")
    with at(APRIL):
        rows = {r["business_key"]: r for r in library.bulletin("2026Q1")["plans"]}
    assert (rows["Q-RETURNED"]["standing"], rows["Q-RETURNED"]["attention"]) == ("unreviewed", True)
    assert {k: rows["Q-RETURNED"]["review"][k] for k in ("state", "returns", "decision", "opinion")} == {
        "state": "returned", "returns": 1, "decision": "return", "opinion": "请补充附件"}
    assert rows["Q-RETURNED"]["table"]["revised"] is False  # the table as filed, until it is revised
    assert (rows["Q-DONE"]["standing"], rows["Q-DONE"]["attention"], rows["Q-DONE"]["table"]) == (
        "not_required", False, None)
    assert (rows["Q-STOPPED"]["standing"], rows["Q-STOPPED"]["attention"], rows["Q-STOPPED"]["status"]) == (
        "cancelled", False, "cancelled")
    with at(APRIL):  # a plan that ended before the quarter began is not in it
        assert "Q-STOPPED" not in [r["business_key"] for r in library.bulletin("2026Q2")["plans"]]
