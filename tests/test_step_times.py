"""How long each step takes (办理时效统计): three plans of the small approval driven through the
engine on a frozen clock, across National Day 2026 (1-7 October off, Saturday 10 October worked),
so that each step took a known number of working and calendar days; what the reform office
reads in the figures, the file and the command line, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Forbidden, Invalid

from .conftest import FIXTURES, read
from .test_statement_counts import counted

NOW = "2026-11-20T10:00"


def drive(engine, people, at) -> None:
    """Plan 1: drafted 29 Sep → 9 Oct (10 days, 3 working: 30 Sep, 8 and 9 Oct; due after 7 days,
    so late), reviewed 9 → 12 Oct (3 days, 2 working: Sat 10 and Mon 12 Oct).
    Plan 2: drafted 12 → 13 Oct (1, 1), reviewed 13 → 14 Oct and sent back (1, 1), drafted again
    14 → 20 Oct (6, 4), its review open since 20 Oct, due in 15 working days: overdue by 20 Nov.
    Plan 3: started 2 Nov, its draft (due 9 Nov) still open on 20 Nov: overdue.
    Plans 1 and 3 are led by 市财政局, plan 2 by 市发改委."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    drafter, legal = people["drafter"], people["legal"]

    def step(moment, plan, element, data):
        with at(moment):
            task = next(t for t in engine.instance(plan)["tasks"]
                        if t["element_id"] == element and t["status"] in ("open", "claimed"))
            if task["assignee"] is None:
                engine.claim(task["id"], actor=legal)
            engine.complete(task["id"], actor=task["assignee"] or legal, data=data)

    with at("2026-09-29T09:00"):
        one = engine.start("mini_approval", actor=drafter, data={"leadUnit": "市财政局"})["id"]
    step("2026-10-09T10:00", one, "Task_Draft", {"summary": "初稿"})
    step("2026-10-12T09:00", one, "Task_Review", {"decision": "approve"})
    with at("2026-10-12T09:00"):
        two = engine.start("mini_approval", actor=drafter, data={"leadUnit": "市发改委"})["id"]
    step("2026-10-13T09:00", two, "Task_Draft", {"summary": "初稿"})
    step("2026-10-14T09:00", two, "Task_Review", {"decision": "return", "returnReason": "补充依据"})
    step("2026-10-20T16:00", two, "Task_Draft", {"summary": "修改稿"})
    with at("2026-11-02T09:00"):
        engine.start("mini_approval", actor=drafter, data={"leadUnit": "市财政局"})


@pytest.fixture
def driven(engine, people, at):
    drive(engine, people, at)
    return engine


def by_step(result: dict) -> dict:
    return {r["element_id"]: r for r in result["steps"]}


def test_the_slowest_step_comes_first_with_its_working_and_calendar_days(driven, people, at):
    with at(NOW):
        result = driven.step_times(people["reform_office"])
    assert (result["since"], result["until"]) == ("2026-01-01", "2026-12-31")  # this year, by default
    assert [r["element_id"] for r in result["steps"]] == ["Task_Draft", "Task_Review"]
    draft, review = result["steps"]
    assert (draft["process_key"], draft["process_name"], draft["name"]) == ("mini_approval", "简易审批", "起草")
    # working days [1, 3, 4], calendar days [1, 6, 10]: National Day's week counts for nothing
    assert (draft["completed"], draft["median_working_days"], draft["p90_working_days"], draft["max_working_days"]) == \
        (3, 3, 4, 4)
    assert (draft["median_days"], draft["p90_days"], draft["max_days"]) == (6, 10, 10)
    assert (draft["late"], draft["open"], draft["open_overdue"]) == (1, 1, 1)
    # working days [1, 2], calendar days [1, 3]: the median of two is their mean
    assert (review["completed"], review["median_working_days"], review["p90_working_days"],
            review["max_working_days"]) == (2, 1.5, 2, 2)
    assert (review["median_days"], review["p90_days"], review["max_days"]) == (2, 3, 3)
    assert (review["late"], review["open"], review["open_overdue"]) == (0, 1, 1)
    assert (draft["share"], review["share"]) == (100, 50)  # the page's bars
    assert (result["completed"], result["late"], result["open"], result["open_overdue"]) == (5, 1, 2, 2)


def test_per_lead_unit_who_is_late(driven, people, at):
    with at(NOW):
        units = driven.step_times(people["reform_office"])["units"]
    # 市财政局: plan 1's draft (3 working days, late) and review (2), plan 3's draft overdue;
    # 市发改委: plan 2's three steps (1, 1, 4), its review overdue. As many overdue: the one late first
    assert [(u["lead_unit"], u["completed"], u["median_working_days"], u["late"], u["open"], u["open_overdue"])
            for u in units] == [("市财政局", 2, 2.5, 1, 1, 1), ("市发改委", 3, 1, 0, 1, 1)]


def test_the_period_counts_the_steps_completed_in_it_and_the_process_filter(driven, people, at):
    office = people["reform_office"]
    with at(NOW):
        # from 10 October: plan 1's draft (completed on the 9th) is out
        draft = by_step(driven.step_times(office, since="2026-10-10"))["Task_Draft"]
        assert (draft["completed"], draft["median_working_days"], draft["late"]) == (2, 2.5, 0)
        # up to 12 October, both days included: plan 1's draft and review only
        early = by_step(driven.step_times(office, since="2026-10-01", until="2026-10-12"))
        assert (early["Task_Draft"]["completed"], early["Task_Review"]["completed"]) == (1, 1)
        assert early["Task_Draft"]["median_days"] == 10
        # last year: nothing completed, the steps open now still counted, last
        old = driven.step_times(office, since="2025-01-01", until="2025-12-31")
        assert [(r["completed"], r["median_working_days"], r["open"]) for r in old["steps"]] == \
            [(0, None, 1), (0, None, 1)]
        assert by_step(driven.step_times(office, process="mini_approval"))["Task_Draft"]["completed"] == 3
        assert driven.step_times(office, process="legality_review")["steps"] == []  # no plan of that process
        with pytest.raises(Invalid, match="早于开始日期"):
            driven.step_times(office, since="2026-10-10", until="2026-10-01")
        with pytest.raises(Invalid, match="YYYY-MM-DD"):
            driven.step_times(office, since="10/10/2026")


def test_a_day_the_office_enters_off_counts_for_nothing_and_a_stopped_plan_s_steps_are_left_out(driven, people, at):
    office = people["reform_office"]
    with at(NOW):
        # 9 October, a working day, entered as a local day off: plan 1's draft took 2 working days, not 3
        driven.set_calendar_day(date(2026, 10, 9), working=False, note="地方调休", actor=office)
        draft = by_step(driven.step_times(office))["Task_Draft"]
        assert (draft["median_working_days"], draft["max_working_days"], draft["median_days"]) == (2, 4, 6)
        # plan 3 stopped: its open draft withdrawn, neither open nor overdue any more
        plans = driven.step_times(office)
        driven.cancel_plan(3, reason="重复发起", actor=office)
        after = by_step(driven.step_times(office))["Task_Draft"]
    assert by_step(plans)["Task_Draft"]["open"] == 1
    assert (after["open"], after["open_overdue"], after["completed"]) == (0, 0, 3)


def test_only_the_reform_office_sees_the_statistics(driven, people, at):
    with at(NOW):
        with pytest.raises(Forbidden, match="只有改革办"):
            driven.step_times(people["drafter"])
        with pytest.raises(Forbidden, match="不存在或已停用"):
            driven.step_times("nobody")


def test_the_same_four_statements_whatever_the_number_of_plans(driven, people, at):
    with at(NOW):
        with counted(driven.db) as statements:
            driven.step_times(people["reform_office"])
        few = len(statements)
        for _ in range(3):
            driven.start("mini_approval", actor=people["drafter"])
        with counted(driven.db) as statements:
            driven.step_times(people["reform_office"])
    # the actor's groups, the calendar's entered days, the plans' lead units, the inbox rows
    assert len(statements) == few == 4


def test_the_csv_and_xlsx_files(driven, people, at, tmp_path):
    from openpyxl import load_workbook

    from engine.step_times_export import HEADERS, write
    with at(NOW):
        result = driven.step_times(people["reform_office"])
    write(result, str(tmp_path / "stats.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "stats.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(HEADERS) and rows[0][:6] == ["流程", "流程标识", "环节", "环节标识", "办结数", "中位工作日"]
    assert rows[1] == ["简易审批", "mini_approval", "起草", "Task_Draft", "3", "3", "4", "4", "6", "10", "10", "1", "1", "1"]
    assert rows[2][2:8] == ["审核", "Task_Review", "2", "1.5", "2", "2"]
    write(result, str(tmp_path / "stats.xlsx"))
    book = load_workbook(tmp_path / "stats.xlsx")
    assert [list(r) for r in book["按牵头单位"].iter_rows(values_only=True)] == [
        ["牵头单位", "办结数", "中位工作日", "逾期办结", "在办", "在办逾期"], ["市财政局", 2, 2.5, 1, 1, 1],
        ["市发改委", 3, 1, 0, 1, 1]]
    sheet = book.active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "办理时效统计（2026-01-01 至 2026-12-31 办结）"
    assert values[1] == list(HEADERS)
    assert values[2][:5] == ["简易审批", "mini_approval", "起草", "Task_Draft", 3]
    assert values[3][5] == 1.5


def test_the_command_line(driven, people):
    def cli(*args, code=0):
        result = CliRunner().invoke(main, ["--db", driven.db.url, "--now", NOW, "stats", *args])
        assert result.exit_code == code, result.output + result.stderr
        return result
    office = people["reform_office"]
    table = cli("--as", office).stdout.splitlines()
    assert table[0].startswith("办理时效统计（2026-01-01 至 2026-12-31 办结）")
    assert table[1].startswith("  简易审批 · 起草 (mini_approval: Task_Draft)：办结 3 件，工作日 中位 3、90% 4、最长 4；"
                               "自然日 中位 6、90% 10、最长 10；逾期办结 1")
    assert "审核" in table[2] and "中位 1.5" in table[2]
    assert table[-1].startswith("共 2 个环节：办结 5 件，逾期办结 1；在办 2，其中逾期 2")
    data = json.loads(cli("--as", office, "--since", "2026-10-10", "--json").stdout)
    assert data["since"] == "2026-10-10" and by_step(data)["Task_Draft"]["median_working_days"] == 2.5
    lines = list(csv.reader(io.StringIO(cli("--as", office, "--format", "csv").stdout)))
    assert lines[0][0] == "流程" and lines[1][3] == "Task_Draft" and len(lines) == 3
    by_unit = cli("--as", office, "--by-unit").stdout.splitlines()
    assert by_unit[1].startswith("  市财政局：办结 2 件，工作日中位 2.5，逾期办结 1；在办 1，其中逾期 1")
    assert list(csv.reader(io.StringIO(cli("--as", office, "--by-unit", "--format", "csv").stdout)))[2] == \
        ["市发改委", "3", "1", "0", "1", "1"]
    refused = cli("--as", people["drafter"], code=4)
    assert "只有改革办可以查看办理时效统计" in refused.stderr
    # the refusal names the option (the docs audit: it said "invalid value for value")
    xlsx = cli("--as", office, "--format", "xlsx", code=2).stderr
    assert "'--format xlsx' 取值无效：须与 --output FILE.xlsx 同用" in xlsx and "for value" not in xlsx
    assert "invalid value for '--output': --format csv writes a .csv file" in \
        cli("--as", office, "--format", "csv", "--output", "stats.txt", code=2).stderr


def test_a_step_a_later_version_draws_elsewhere_stays_one_row(engine, people, at):
    """The upgrade audit of 6 December 2026: filing's 报送备案, at the process's top level on a
    database of 4 December and inside SubProcess_Filing since, showed as two rows of one name,
    each with its own count and median."""
    from .plan_helper import complete_step
    from .test_migration_rules import FILING, ISSUED, _flat_filing
    office = people["reform_office"]
    plans = []
    for xml, started in ((_flat_filing(), "2026-12-01T09:00"), (FILING, "2026-12-02T09:00")):
        engine.deploy([("filing.bpmn", xml.encode())])
        with at(started):
            plans.append(engine.start("filing", actor=office, data={**ISSUED, "issueDate": "2026-11-30"})["id"])
    for plan, filed in zip(plans, ("2026-12-03", "2026-12-07")):
        with at(f"{filed}T10:00"):
            complete_step(engine, plan, "Task_FileDocument", office, {"filingDate": filed, "filingMaterials": "正式文本"})
    with at("2026-12-08T10:00"):
        rows = [r for r in engine.step_times(office)["steps"] if r["element_id"] == "Task_FileDocument"]
    assert len(rows) == 1
    [row] = rows
    # 2 and 5 calendar days (1 → 3 December, 2 → 7 December), as drawn in the latest version
    assert (row["completed"], row["median_days"], row["part"]) == (2, 3.5, "SubProcess_Filing")
