"""A year's holiday schedule entered from one file (`reformflow calendar import`): read as a
reform office would type it or save it from Excel, refused whole with every wrong line named,
entered in one transaction, and the open deadlines counted across it moved once.

The 2027 days below are test data, not the State Council's schedule."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from engine import calendar_file
from engine.errors import Forbidden, Invalid

from .conftest import FIXTURES
from .plan_helper import Plan, audit_payloads
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database

YEARS = (1900, 2100)
SCHEDULE = "日期,安排,说明\n2027-01-01,放假,元旦\n2027-01-04,放假,元旦调休\n2027-02-06..2027-02-12,放假,春节\n2027-02-13,上班,春节调休\n"


def _read(text: str, encoding: str = "utf-8"):
    return calendar_file.read("2027.csv", text.encode(encoding), YEARS)


def _days(entries) -> list[tuple[str, bool, str]]:
    return [(e.day.isoformat(), e.working, e.note) for e in entries]


def test_a_range_gives_every_day_of_the_holiday():
    entries = _read(SCHEDULE)
    assert _days(entries) == [("2027-01-01", False, "元旦"), ("2027-01-04", False, "元旦调休")] + [
        (f"2027-02-{d:02d}", False, "春节") for d in range(6, 13)] + [("2027-02-13", True, "春节调休")]
    assert [e.line for e in entries][:2] == [2, 3]


@pytest.mark.parametrize("day", ["2027/2/6..2027/2/8", "2027年2月6日至2027年2月8日", "2027-02-06~2027-02-08"])
def test_dates_as_excel_in_a_chinese_locale_saves_them(day):
    assert [e.day for e in _read(f"日期,安排\n{day},放假\n")] == [date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_utf8_with_or_without_bom_and_gb18030_as_chinese_excel_writes_csv(encoding):
    assert _days(_read(SCHEDULE, encoding))[0] == ("2027-01-01", False, "元旦")


def test_english_headings_any_column_order_comments_and_blank_lines():
    text = "note,kind,day\n# from the State Council's notice\n\n元旦,off,2027-01-01\n调休,working,2027-02-13\n"
    assert _days(_read(text)) == [("2027-01-01", False, "元旦"), ("2027-02-13", True, "调休")]


def test_every_wrong_line_is_named_and_nothing_is_read():
    text = ("日期,安排,说明\n2027-02-30,放假,\n2027-03-01,调休,\n2027-01-01,放假,元旦\n"
            "2027-05-05..2027-05-01,放假,\n2027-01-01,放假,\n2027-02-01..2027-12-14,放假,\n1899-12-31,放假,\n"
            f"2027-03-02,放假,{'长' * 201}\n")
    with pytest.raises(Invalid) as refused:
        _read(text)
    message = refused.value.message
    assert message.startswith("日历文件 2027.csv 有 7 处错误，未录入任何日期：第 2 行：日期“2027-02-30”无效")
    for said in ("第 3 行：安排“调休”无效，须为“放假”或“上班”", "第 5 行：日期范围 2027-05-05..2027-05-01 的结束早于开始",
                 "第 6 行：2027-01-01 已在第 4 行列出", "第 7 行：日期范围 2027-02-01..2027-12-14 超过 31 天，请核对",
                 "第 8 行：日期 1899-12-31 须在 1900 至 2100 年之间", "第 9 行：说明超过 200 字",
                 "(the calendar file has 7 errors; nothing was entered: line 2: “2027-02-30” is not a day"):
        assert said in message


@pytest.mark.parametrize("text, said", [
    ("", "没有内容；第一行须为表头"),
    ("2027-01-01,放假,元旦\n", "第一行须为表头，含“日期”和“安排”两列"),
    ("日期,说明\n2027-01-01,元旦\n", "第一行须为表头"),
    ("日期,安排,说明\n", "只有表头，没有日期"),
])
def test_a_file_without_its_heading_or_without_days_is_refused(text, said):
    with pytest.raises(Invalid, match=said):
        _read(text)


def test_a_file_neither_utf8_nor_gb18030_or_too_big_is_refused():
    with pytest.raises(Invalid, match="既不是 UTF-8 也不是 GB18030"):
        calendar_file.read("x.csv", b"\xff\xfe\x00\xd8" * 3, YEARS)
    with pytest.raises(Invalid, match="超过 1024 KB"):
        calendar_file.read("x.csv", b"#" * (calendar_file.MAX_BYTES + 1), YEARS)


# ----------------------------------------------------------------- entered through the engine

def test_the_schedule_is_entered_at_once_and_again_changes_nothing(library, at):
    """A legality review opened on Fri 18 Dec 2026 counts 15 working days with no 2027 holidays
    entered: 1 January off by law, so due Monday 11 January. The imported schedule (1 January again,
    harmless, and two bridging days) moves it once; importing the same file again records nothing."""
    with at("2026-12-18T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-01-11T16:00:00+00:00"
    days = [(e.day, e.working, e.note) for e in _read("日期,安排,说明\n2027-01-01,放假,元旦\n2027-01-04..2027-01-05,放假,测试\n")]
    with at("2026-12-21T09:00:00"):
        entered = library.set_calendar_days(days, actor="chen")
        library.recount_working_days(date(2027, 1, 5), actor="chen")
    assert [d["day"] for d in entered["entered"]] == ["2027-01-01", "2027-01-04", "2027-01-05"]
    # two working days later: Wed 13 Jan
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-01-13T16:00:00+00:00"
    assert [p["day"] for p in audit_payloads(library, None, "calendar_changed")] == [
        "2027-01-01", "2027-01-04", "2027-01-05"]
    with at("2026-12-22T09:00:00"):
        again = library.set_calendar_days(days, actor="chen")
    assert (again["entered"], len(again["unchanged"])) == ([], 3)
    assert len(audit_payloads(library, None, "calendar_changed")) == 3
    with pytest.raises(Forbidden):
        library.set_calendar_days(days, actor="zhang")
    assert plan.audit_ok()


def test_calendar_import_from_the_command_line(cli, tmp_path):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    at = ["--now", "2026-12-18T09:00:00"]
    plan = as_json(cli(*at, "start", "mini_approval", "--as", "zhang", "--json"))
    cli(*at, "complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "s"}')
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert review["due_at"] == "2027-01-11T16:00:00+00:00"  # 1 January off by law
    schedule = tmp_path / "2027.csv"
    schedule.write_bytes(SCHEDULE.encode("gb18030"))

    shown = cli(*at, "calendar", "import", str(schedule), "--as", "chen").stdout
    assert shown.startswith("已录入 10 天：放假 9 天，调休上班 1 天；已有相同记录 0 天 (entered 10 day(s): 9 off, 1 working; ")
    # the bridging day Monday 4 January moves it; 1 January, off by law already, does not
    assert f"待办 (task) {review['id']} 审核 期限 (due) 2027-01-11 → 2027-01-12" in shown
    listed = as_json(cli("calendar", "show", "2027", "--json"))
    # every day entered: 1 and 4 Jan, the whole of 6–12 Feb (its weekend too), Sat 13 Feb working;
    # and the weekdays off by law that the file left out: 除夕 5 Feb, 清明, 端午, 中秋, 1 October
    assert listed["covered"] and sum(d["override"] for d in listed["days"]) == 10
    assert [d["day"] for d in listed["days"] if d["by_law"]] == [
        "2027-02-05", "2027-04-05", "2027-06-09", "2027-09-15", "2027-10-01"]
    # the plan's trail says the deadline was a guess, and why it moved
    trail = cli("history", str(plan["id"])).stdout
    assert "生成待办 (task created) 审核（法制机构、改革办，期限 (due) 2027-01-11；按法定节假日和周末推算，2027 年调休当时未录入 " \
           "(counted on the statutory holidays and weekends: no holiday calendar for 2027 then)）" in trail
    assert "期限变更 (due changed) 审核：2027-01-11 → 2027-01-12（节假日安排录入或撤销后重算 (calendar changed)）" in trail
    again = as_json(cli(*at, "calendar", "import", str(schedule), "--as", "chen", "--json"))
    assert (again["entered"], len(again["unchanged"]), again["moved"]) == ([], 10, [])

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("日期,安排,说明\n2027-04-05,放假,清明节\n2027-04-31,放假,\n", encoding="utf-8")
    refused = cli(*at, "calendar", "import", str(wrong), "--as", "chen", "--json", ok=False)
    assert refused.exit_code == 3 and as_json(refused)["error"] == "invalid"
    assert "第 3 行：日期“2027-04-31”无效" in refused.stderr
    assert "2027-04-05" not in [d["day"] for d in as_json(cli("calendar", "show", "2027", "--json"))["days"]
                                if d["override"]]  # listed, off by law, but not entered
    forbidden = cli(*at, "calendar", "import", str(schedule), "--as", "zhang", ok=False)
    assert forbidden.exit_code == 4


def test_the_file_the_help_shows_is_imported_as_it_stands(cli, tmp_path):  # noqa: F811
    """An office copies the example from `calendar import --help` to try the format: it showed
    2027-02-15 (a Monday) as 上班, which the import itself refuses as a mistyped date."""
    shown = cli("calendar", "import", "--help").stdout
    example = [line.strip() for line in shown.splitlines() if line.strip().startswith(("日期,", "2027-"))]
    assert example[0] == "日期,安排,说明" and len(example) > 2
    schedule = tmp_path / "2027.csv"
    schedule.write_text("\n".join(example) + "\n", encoding="utf-8")
    imported = as_json(cli("calendar", "import", str(schedule), "--as", "chen", "--json"))
    assert {e["working"] for e in imported["entered"]} == {False, True}
    # the module's own description of the file shows the same lines
    assert "\n".join(f"    {line}" for line in example) in calendar_file.__doc__


def test_a_working_day_entered_on_a_weekday_is_refused_as_a_mistyped_date():
    """A notice only ever makes weekends working days: 上班 on a Monday is a wrong date. A day
    off on a weekend is what a notice says of a holiday's weekend (1月1日至3日放假): accepted."""
    with pytest.raises(Invalid) as refused:
        _read("日期,安排\n2027-02-15,上班\n2027-02-20,放假\n2027-02-06..2027-02-12,放假\n2027-02-13..2027-02-15,上班\n")
    message = refused.value.message
    assert "有 2 处错误" in message
    assert "第 2 行：2027-02-15（星期一）本来就是工作日，无需录入为上班；请核对日期" in message
    assert "第 5 行：2027-02-15（星期一）本来就是工作日" in message
    assert [e.day.isoformat() for e in _read("日期,安排\n2027-01-01..2027-01-03,放假\n")] == [
        "2027-01-01", "2027-01-02", "2027-01-03"]
    # a year the package knows: a swapped working Sunday there (28 Sep 2025) is a working day already
    with pytest.raises(Invalid, match="2025-09-28（星期日）本来就是工作日"):
        _read("日期,安排\n2025-09-28,上班\n")


def test_a_statutory_holiday_entered_as_working_is_refused_as_a_mistyped_date(cli):  # noqa: F811
    """No notice makes 元旦 or a day of 春节 a working day (the law gives every citizen the day off):
    上班 on one is a wrong date or a wrong row, in a file and on the command line alike."""
    with pytest.raises(Invalid) as refused:
        _read("日期,安排,说明\n2027-02-06..2027-02-08,上班,春节调休\n")
    assert "第 2 行：2027-02-06 是法定节假日（春节），放假安排不会把它调为上班；请核对日期" in refused.value.message
    cli("calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
    wrong = cli("calendar", "set", "2027-01-01", "--working", "--as", "chen", ok=False)
    assert wrong.exit_code != 0
    assert "2027-01-01 是法定节假日（元旦），放假安排不会把它调为上班；请核对日期 (2027-01-01 is a statutory holiday " \
           "(New Year's Day): no notice makes it a working day; check the date)" in wrong.stderr
    assert "撤销" not in wrong.stderr  # taking the entry back would not make it a working day either


def test_an_entry_is_taken_back_and_the_deadlines_follow(cli):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    at = ["--now", "2026-12-18T09:00:00"]
    plan = as_json(cli(*at, "start", "mini_approval", "--as", "zhang", "--json"))
    cli(*at, "complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "s"}')
    wrong = cli(*at, "calendar", "set", "2027-01-04", "--working", "--as", "chen", "--json", ok=False)
    assert wrong.exit_code == 3
    assert "2027-01-04（星期一）本来就是工作日，无需录入为上班；请核对日期 (" in wrong.stderr
    assert "remove" not in wrong.stderr  # nothing was entered for that day: nothing to take back
    first = cli(*at, "calendar", "set", "2027-01-04", "--off", "--note", "元旦调休", "--as", "chen")
    # one day makes 2027 count as entered: said, since the rest of its schedule is still missing
    assert "这是 2027 年录入的第一天，该年从此算作已录入" in first.stderr and "按法律推定的补假也不再计入" in first.stderr
    assert "reformflow calendar import" in first.stderr
    back = cli(*at, "calendar", "set", "2027-01-04", "--working", "--as", "chen", ok=False)
    # the command it points to runs as written: without --as it was a usage error
    assert "要恢复为工作日，请撤销该日已录入的放假（网页的「撤销」，或 reformflow calendar remove 2027-01-04 --as chen）" in back.stderr
    assert "or `reformflow calendar remove 2027-01-04 --as chen`)" in back.stderr
    second = cli(*at, "calendar", "set", "2027-02-11", "--off", "--note", "春节", "--as", "chen", "--json")
    assert as_json(second)["years_begun"] == [] and "第一天" not in second.stderr
    cli(*at, "calendar", "remove", "2027-02-11", "--as", "chen")
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert review["due_at"] == "2027-01-12T16:00:00+00:00"  # 1 January off by law, 4 January entered
    removed = as_json(cli(*at, "calendar", "remove", "2027-01-04", "--as", "chen", "--json"))
    assert (removed["working"], removed["removed"]) == (True, True)
    assert [t["new"] for p in removed["moved"] for t in p["tasks"]] == ["2027-01-11T16:00:00+00:00"]
    shown = as_json(cli("calendar", "show", "2027", "--json"))
    assert not shown["covered"]  # nothing entered for 2027 any more: only the days off by law are listed
    assert [(d["day"], d["by_law"], d["override"]) for d in shown["days"]][:2] == [
        ("2027-01-01", True, False), ("2027-02-05", True, False)]
    # as the day now is: a plain Monday, a plain Saturday, 元旦 by law; not 调休上班 / 放假, which it no longer is
    cli(*at, "calendar", "set", "2027-01-04", "--off", "--note", "元旦调休", "--as", "chen")
    said = cli(*at, "calendar", "remove", "2027-01-04", "--as", "chen").stdout.splitlines()[0]
    assert said == "2027-01-04：已撤销录入，现为工作日 (entry removed: now a working day)"
    cli(*at, "calendar", "set", "2027-01-09", "--working", "--as", "chen")
    said = cli(*at, "calendar", "remove", "2027-01-09", "--as", "chen").stdout.splitlines()[0]
    assert said == "2027-01-09：已撤销录入，现为休息日 (entry removed: now a day off)"
    cli(*at, "calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
    said = cli(*at, "calendar", "remove", "2027-01-01", "--as", "chen").stdout.splitlines()[0]
    assert said == "2027-01-01：已撤销录入，现为休息日 (entry removed: now a day off)"
    again = cli(*at, "calendar", "remove", "2027-01-04", "--as", "chen", ok=False)
    assert again.exit_code == 5 and "2027-01-04 没有录入过" in again.stderr
    events = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    changes = [json.loads(e["payload"]) for e in events if e["event_type"] == "calendar_changed"]
    entered, removed = ({"working": None}, {"working": False}), ({"working": False}, {"working": None})
    assert [(c["day"], c["old"], c["new"]) for c in changes] == [
        ("2027-01-04", *entered), ("2027-02-11", *entered), ("2027-02-11", *removed), ("2027-01-04", *removed),
        ("2027-01-04", *entered), ("2027-01-04", *removed),
        ("2027-01-09", {"working": None}, {"working": True}), ("2027-01-09", {"working": True}, {"working": None}),
        ("2027-01-01", *entered), ("2027-01-01", *removed)]


def test_someone_outside_the_office_is_refused_before_the_date_is_judged(library):
    with pytest.raises(Forbidden, match="只有改革办可以维护节假日安排"):
        library.set_calendar_day(date(2027, 1, 4), working=True, actor="zhang")  # a Monday: pointless, but not theirs to enter


def test_importing_part_of_a_year_warns_that_the_whole_year_now_counts_as_entered(cli, tmp_path):  # noqa: F811
    """`calendar set` warned of a year's first day; `calendar import` of ten days of 2027 said
    nothing, and 2027 was no longer warned of."""
    schedule = tmp_path / "2027.csv"
    schedule.write_text(SCHEDULE, encoding="utf-8")
    first = cli("calendar", "import", str(schedule), "--as", "chen")
    assert "警告 (warning)：这是 2027 年首次录入，该年从此算作已录入" in first.stderr
    assert "reformflow calendar show 2027" in first.stderr
    later = tmp_path / "2027-more.csv"
    later.write_text("日期,安排,说明\n2027-04-05,放假,清明节\n", encoding="utf-8")
    assert "首次录入" not in cli("calendar", "import", str(later), "--as", "chen").stderr


def test_calendar_recount_counts_open_deadlines_again_by_todays_rule(cli, sqlite_db):  # noqa: F811
    """After an upgrade that counts a year nobody entered differently (statutory holidays by law
    instead of plain weekends), `calendar recount` puts deadlines counted by the old rule right."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    at = ["--now", "2026-12-18T09:00:00"]
    plan = as_json(cli(*at, "start", "mini_approval", "--as", "zhang", "--json"))
    cli(*at, "complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "s"}')
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    with sqlite_db.engine.begin() as conn:  # as the release before counted it: New Year's Day worked,
        # and its basis did not yet say that it counts working days (the upgrade audit: never 暂定)
        conn.execute(text("UPDATE human_tasks SET due_at = '2027-01-08 16:00:00.000000', "
                          "due_basis = replace(due_basis, ', \"working_days\": true', '') WHERE id = :id"),
                     {"id": review["id"]})
    old = as_json(cli("task", str(review["id"]), "--json"))
    assert (old["due_at"], old["due_provisional"]) == ("2027-01-08T16:00:00+00:00", False)
    refused = cli("calendar", "recount", "--as", "zhang", ok=False)
    assert refused.exit_code != 0 and "改革办" in refused.stderr
    shown = cli("--now", "2026-12-21T09:00:00", "calendar", "recount", "--as", "chen").stdout
    assert shown.startswith("重新计算了 1 个方案的期限 (deadlines moved in 1 plan(s))")
    assert f"待办 (task) {review['id']} 审核 期限 (due) 2027-01-08 → 2027-01-11" in shown
    recounted = as_json(cli("task", str(review["id"]), "--json"))
    assert (recounted["due_at"], recounted["due_provisional"]) == ("2027-01-11T16:00:00+00:00", True)
    trail = cli("history", str(plan["id"])).stdout
    assert "期限变更 (due changed) 审核：2027-01-08 → 2027-01-11（按现行工作日规则重算 (counted again by today's working-day rule)）" in trail
    again = cli("--now", "2026-12-21T10:00:00", "calendar", "recount", "--as", "chen").stdout
    assert again.startswith("重新计算了 0 个方案的期限")  # nothing left to put right
    assert cli("audit", "verify").exit_code == 0


def test_a_day_taken_back_in_a_year_still_entered_is_said_as_that_year_counts_it(cli):  # noqa: F811
    """9 February 2027 is a make-up day the law's rule guesses only while nothing of 2027 is entered:
    taken back while 1 January stays entered, it is a working day, and the command says so."""
    cli("calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
    cli("calendar", "set", "2027-02-09", "--off", "--note", "春节", "--as", "chen")
    removed = cli("calendar", "remove", "2027-02-09", "--as", "chen")
    assert "2027-02-09：已撤销录入，现为工作日 (entry removed: now a working day)" in removed.stdout
    assert "年已没有录入的日子" not in removed.stderr  # 1 January is still entered
    assert "2027-02-09" not in cli("calendar", "show", "2027").stdout
    alone = cli("calendar", "remove", "2027-01-01", "--as", "chen")  # the year's last entry: guesses count again
    assert "2027-01-01：已撤销录入，现为休息日" in alone.stdout
    # said, as the first entry is: the year is not entered again, and every working-day deadline counted again
    assert "警告 (warning)：2027 年已没有录入的日子，该年又算作未录入，工作日期限重新标为暂定，按法律推定的补假重新计入，" \
           "所有按工作日计算的未办结期限已重新计算" in alone.stderr


def _review_opened_on_20_january_2027(cli) -> tuple[int, list[str]]:  # noqa: F811
    """mini_approval's review (15 working days) opened on Wed 20 January 2027, 2027 not entered:
    counted on the statutory holidays by law, 9 and 10 February the guessed make-up days of 春节
    (6–7 February, a weekend), it ends on Tue 16 February."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    at = ["--now", "2027-01-20T09:00:00"]
    plan = as_json(cli(*at, "start", "mini_approval", "--as", "zhang", "--json"))
    cli(*at, "complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "s"}')
    [review] = as_json(cli(*at, "tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert (review["due_at"], review["due_provisional"]) == ("2027-02-16T16:00:00+00:00", True)
    return review["id"], ["--now", "2027-01-21T09:00:00"]


def _due(cli, task_id: int) -> tuple[str, bool]:  # noqa: F811
    [review] = [t for t in as_json(cli("--now", "2027-01-21T09:00:00", "tasks", "--as", "li", "--scope", "claimable",
                                       "--json"))["tasks"] if t["id"] == task_id]
    return review["due_at"], review["due_provisional"]


def test_the_first_day_entered_for_a_year_counts_again_deadlines_across_its_guessed_make_up_days(cli):  # noqa: F811
    """Entering 1 January as 2027's first day makes the year count as entered, so its guessed make-up
    days (9–10 February) no longer count. A step opened after 1 January was not counted again: it
    stayed due 16 February, no longer marked 暂定, where the calendar now put the 12th. Taking the
    year's only entry back brings the guessed days back, and the 16th."""
    task_id, at = _review_opened_on_20_january_2027(cli)
    # the ledger marks it as `tasks` does
    assert "审核（待认领 (open)：法制机构、改革办） 期限 (due) 2027-02-16 暂定 (provisional)" in cli(*at, "ledger").stdout
    overview = cli("--now", "2027-02-10T09:00:00", "overview", "--as", "chen").stdout
    assert f"即将到期 (due soon)：#{task_id} 审核，简易审批，期限 (due) 2027-02-16 暂定 (provisional)" in overview
    entered = as_json(cli(*at, "calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen", "--json"))
    assert entered["years_begun"] == [2027]
    # 21 Jan–4 Feb (11), 5 and 8 Feb off by law, 9–12 Feb (15): end of Fri 12 February
    assert [t["new"] for p in entered["moved"] for t in p["tasks"]] == ["2027-02-12T16:00:00+00:00"]
    assert _due(cli, task_id) == ("2027-02-12T16:00:00+00:00", False)
    assert "期限 (due) 2027-02-12" in (ledger := cli(*at, "ledger").stdout) and "暂定" not in ledger
    removed = as_json(cli(*at, "calendar", "remove", "2027-01-01", "--as", "chen", "--json"))
    assert [t["new"] for p in removed["moved"] for t in p["tasks"]] == ["2027-02-16T16:00:00+00:00"]
    assert _due(cli, task_id) == ("2027-02-16T16:00:00+00:00", True)


def test_a_file_of_a_years_first_days_counts_again_deadlines_across_its_guessed_make_up_days(cli, tmp_path):  # noqa: F811
    task_id, at = _review_opened_on_20_january_2027(cli)
    schedule = tmp_path / "2027-new-year.csv"
    schedule.write_text("日期,安排,说明\n2027-01-01,放假,元旦\n", encoding="utf-8")
    imported = as_json(cli(*at, "calendar", "import", str(schedule), "--as", "chen", "--json"))
    assert [t["new"] for p in imported["moved"] for t in p["tasks"]] == ["2027-02-12T16:00:00+00:00"]
    assert _due(cli, task_id) == ("2027-02-12T16:00:00+00:00", False)
