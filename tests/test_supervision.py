"""The reform office's supervision and rectification ledger (督察整改台账, `reformflow supervision`):
plans in implementation driven through supervision, rectification notices, re-review and
re-inspection on SQLite and PostgreSQL, read as the reform office reads the ledger: which plan
was not supervised by its due date and which rectification is past its deadline first, then
where each notice stands, closed item by item (办结一件销号一件)."""
from __future__ import annotations

import csv
import json

from click.testing import CliRunner
from openpyxl import load_workbook

from engine.cli import main

from .test_implementation import _notice, _report, _request_re_review, _started

MAY = "2026-05-10T09:00:00"


def _rows(library, **filters) -> dict:
    return {r["business_key"]: r for r in library.supervision(**filters)["plans"]}


def _served(plan, at, deadline):
    """Supervised on 31 March, problems found: a notice served on 1 April (as test_implementation's _notice)."""
    with at("2026-04-01T10:00:00"):
        plan.do("Task_Supervise", supervisionDate="2026-03-31", supervisionFindings="绩效评价办法未出台",
                problemsFound=True)
        plan.do("Task_IssueRectificationNotice", rectificationNoticeNumber="同改督〔2026〕3号",
                problemList="1. 绩效评价办法未出台；2. 预算公开不完整", rectificationDeadline=deadline,
                noticeDate="2026-04-01")


def _ledger(library, at):
    """Four plans started on 15 January 2026 (supervision due by the end of 15 January 2027):
    - quiet: not supervised;
    - rectifying: a notice served on 1 April, due 30 May;
    - late: a notice served on 1 April, due 30 April, not reported;
    - withdrawn (市国资委): a notice withdrawn on re-review on 15 April."""
    plans = {"quiet": _started(library, at, key="S-QUIET"), "rectifying": _started(library, at, key="S-RECTIFYING"),
             "late": _started(library, at, key="S-LATE"),
             "withdrawn": _started(library, at, key="S-WITHDRAWN", leadUnit="市国资委")}
    plans["quiet"].fire_timers_at(at, "2026-02-01T00:00:01")  # every plan's January table opens
    for plan in plans.values():
        _report(plan, at, "2026-02-02T10:00:00", 3, 0, 0)
    _served(plans["rectifying"], at, "2026-05-30")
    _served(plans["late"], at, "2026-04-30")
    _served(plans["withdrawn"], at, "2026-05-30")
    _request_re_review(plans["withdrawn"], at)
    with at("2026-04-15T10:00:00"):
        plans["withdrawn"].do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="withdrawn",
                              reReviewDecisionReasons="问题不成立，撤销整改意见书")
    plans["late"].fire_timers_at(at, "2026-05-01T00:00:01")
    return plans


def test_an_overdue_rectification_comes_first_and_a_withdrawn_notice_says_so(library, at):
    _ledger(library, at)
    with at(MAY):
        result = library.supervision()
    assert [r["business_key"] for r in result["plans"]] == ["S-LATE", "S-QUIET", "S-RECTIFYING", "S-WITHDRAWN"]
    rows = {r["business_key"]: r for r in result["plans"]}
    late = rows["S-LATE"]
    assert late["attention"] and late["supervision"]["state"] == "done"
    assert {k: late["notice"][k] for k in ("state", "number", "deadline", "served_on", "days_overdue")} == {
        "state": "overdue", "number": "同改督〔2026〕3号", "deadline": "2026-04-30", "served_on": "2026-04-01",
        "days_overdue": 10}
    assert late["supervision"]["findings"] == "绩效评价办法未出台" and late["supervision"]["date"] == "2026-03-31"
    quiet = rows["S-QUIET"]
    assert (quiet["supervision"]["state"], quiet["attention"], quiet["notice"]) == ("due", False, None)
    assert quiet["supervision"]["due_at"] == "2027-01-15T16:00:00+00:00"
    assert rows["S-RECTIFYING"]["notice"]["state"] == "rectifying" and not rows["S-RECTIFYING"]["attention"]
    withdrawn = rows["S-WITHDRAWN"]["notice"]
    assert (withdrawn["state"], withdrawn["withdrawn_on"], withdrawn["re_review"]["decision"]) == (
        "withdrawn", "2026-04-15", "withdrawn")
    assert result["summary"] == {"plans": 4, "attention": 1, "supervised": 3, "not_supervised": 1,
                                 "supervision_overdue": 0, "notices": 3, "notices_open": 2,
                                 "rectification_overdue": 1, "notices_closed": 0, "notices_withdrawn": 1,
                                 "interviews": 0}
    with at(MAY):
        assert list(_rows(library, unit="国资委")) == ["S-WITHDRAWN"]


def test_a_plan_not_supervised_by_its_due_date_stands_out(library, at):
    _ledger(library, at)
    with at("2027-01-15T23:00:00"):  # the last hour of its due date, Beijing time: not overdue yet
        assert _rows(library)["S-QUIET"]["supervision"]["state"] == "due"
    with at("2027-01-18T09:00:00"):
        result = library.supervision()
    first = result["plans"][0]
    assert (first["business_key"], first["attention"], first["supervision"]["state"], first["supervision"]["days_late"]) == (
        "S-QUIET", True, "overdue", 3)
    assert result["summary"]["supervision_overdue"] == 1


def test_a_notice_goes_from_rectifying_through_a_failed_re_inspection_to_closed(library, at):
    plan = _started(library, at)
    _notice(plan, at)

    def notice(moment):
        with at(moment):
            return _rows(library)["DT-2026-08-SS"]["notice"]
    assert notice("2026-04-02T10:00:00")["state"] == "rectifying"
    _request_re_review(plan, at)
    assert notice("2026-04-06T10:00:00")["state"] == "re_review"
    with at("2026-04-10T10:00:00"):
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="upheld",
                reReviewDecisionReasons="维持原意见")
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="已起草绩效评价办法")
    reported = notice("2026-04-21T10:00:00")
    assert (reported["state"], reported["report"], reported["re_review"]["decision"]) == (
        "reported", "已起草绩效评价办法", "upheld")
    with at("2026-05-02T10:00:00"):
        plan.do("Task_ReInspect", reinspectionResult="failed", reinspectionOpinion="办法仅起草未印发")
    assert notice("2026-05-02T11:00:00")["state"] == "further"
    with at("2026-05-02T12:00:00"):
        plan.do("Task_OrderFurtherRectification", newRectificationDeadline="2026-05-20", interviewLeader=True)
    ordered = notice("2026-05-02T13:00:00")
    assert (ordered["state"], ordered["deadline"], ordered["interview"]["recorded"]) == ("further", "2026-05-20", False)
    with at("2026-05-03T10:00:00"):
        plan.do("Task_RecordInterview", interviewDate="2026-05-03", interviewee="分管副市长",
                interviewRecord="要求5月20日前整改到位")
    further = notice("2026-05-04T10:00:00")
    assert (further["state"], further["further_orders"], further["reinspection"]["result"]) == ("further", 1, "failed")
    assert further["interview"] == {"recorded": True, "date": "2026-05-03", "interviewee": "分管副市长",
                                    "record": "要求5月20日前整改到位"}
    assert notice("2026-05-21T10:00:00")["state"] == "overdue"  # the new deadline passed, not reported
    with at("2026-05-22T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="办法已印发")
        plan.do("Task_ReInspect", reinspectionResult="passed", reinspectionOpinion="整改到位，销号")
    closed = notice("2026-05-23T10:00:00")
    assert (closed["state"], closed["closed_on"], closed["deadline"], closed["original_deadline"]) == (
        "closed", "2026-05-22", "2026-05-20", "2026-04-30")
    with at("2026-05-23T10:00:00"):
        totals = library.supervision()["summary"]
    assert (totals["notices_closed"], totals["notices_open"], totals["interviews"]) == (1, 0, 1)


def test_a_notice_changed_on_re_review_shows_the_changed_list_and_deadline(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    _request_re_review(plan, at)
    with at("2026-04-28T10:00:00"):
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="changed",
                reReviewDecisionReasons="第2项不成立", revisedProblemList="1. 绩效评价办法未出台",
                revisedRectificationDeadline="2026-06-15")
        notice = _rows(library)["DT-2026-08-SS"]["notice"]
    assert (notice["state"], notice["changed"], notice["problem_list"], notice["deadline"]) == (
        "rectifying", True, "1. 绩效评价办法未出台", "2026-06-15")


def test_a_year_lists_the_plans_in_implementation_then_and_a_year_before_them_none(library, at):
    plan = _started(library, at)
    with at("2026-03-01T10:00:00"):
        library.cancel_plan(plan.id, reason="重复发起", actor="chen")
    with at(MAY):
        assert library.supervision()["plans"] == []  # not in implementation now
        [row] = library.supervision(year=2026)["plans"]
        assert (row["supervision"]["state"], row["attention"]) == ("cancelled", False)
        assert library.supervision(year=2025)["plans"] == []


def _cli(library, *args):
    return CliRunner().invoke(main, ["--db", library.db.url, "--now", MAY, "supervision", *args])


def test_the_command_prints_the_ledger_and_writes_the_xlsx(library, at, tmp_path):
    _ledger(library, at)
    lines = _cli(library).stdout.splitlines()
    assert lines[0].startswith("督察整改台账")
    marked = [line for line in lines if "【！】" in line]
    assert len(marked) == 1 and "S-LATE" in marked[0]
    assert any("[逾期未报告 rectification overdue]，已逾期 10 天" in line for line in lines)
    assert any("[已撤销（复核）" in line and "2026-04-15 撤销" in line for line in lines)
    assert lines[-1].startswith("  共 4 个方案，需关注 1 个：已督察 3、未督察 1（逾期 0）；整改意见书 3 份：未销号 2（逾期 1）")
    as_json = json.loads(_cli(library, "--year", "2026", "--json").stdout)
    assert as_json["year"] == 2026 and as_json["plans"][0]["notice"]["state"] == "overdue"
    assert set(as_json["plans"][0]) >= {"id", "business_key", "lead_unit", "supervision", "notice", "attention"}

    xlsx = tmp_path / "督察整改台账.xlsx"
    result = _cli(library, "--output", str(xlsx))
    assert result.exit_code == 0 and "已写入督察整改台账 4 个方案" in result.stderr
    sheet = load_workbook(xlsx).active
    assert sheet.title == "督察整改台账" and sheet["A1"].value.startswith("督察整改台账")
    header = [c.value for c in sheet[2]]
    rows = {r[1]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert list(rows) == ["S-LATE", "S-QUIET", "S-RECTIFYING", "S-WITHDRAWN"]
    late = rows["S-LATE"]
    assert (late["督察情况"], late["督察日期"], late["整改意见书文号"], late["整改期限"], late["整改情况"], late["逾期天数"]) == (
        "已督察", "2026-03-31", "同改督〔2026〕3号", "2026-04-30", "逾期未报告", 10)
    assert (rows["S-QUIET"]["督察情况"], rows["S-QUIET"]["督察期限"], rows["S-QUIET"]["整改情况"]) == (
        "未到督察期限", "2027-01-15", None)
    assert rows["S-WITHDRAWN"]["整改情况"] == "已撤销（复核）" and "撤销" in rows["S-WITHDRAWN"]["复核"]
    assert sheet.cell(3, header.index("整改情况") + 1).fill.start_color.rgb.endswith("FFC7CE")

    path = tmp_path / "督察整改台账.csv"
    assert _cli(library, "--output", str(path)).exit_code == 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:3] == ["编号", "业务编号", "方案名称"] and [r[1] for r in table[1:]] == [
        "S-LATE", "S-QUIET", "S-RECTIFYING", "S-WITHDRAWN"]
    refused = _cli(library, "--output", str(tmp_path / "台账.txt"), "--json")
    assert refused.exit_code != 0 and json.loads(refused.stdout)["error"] == "invalid"
    refused = _cli(library, "--year", "27", "--json")
    assert refused.exit_code != 0 and "2027" in json.loads(refused.stdout)["message"]
    # a four-digit year out of range is told the range, not to write four digits
    refused = _cli(library, "--year", "3000", "--json")
    assert refused.exit_code == 3 and "1900 至 2100" in json.loads(refused.stdout)["message"]
    # the one range every command takes a year in (calendar, --now, the bulletin's quarter)
    assert _cli(library, "--year", "2101", "--json").exit_code == 3
    assert _cli(library, "--year", "2100", "--json").exit_code == 0
    assert _cli(library, "--year", "1900", "--json").exit_code == 0
