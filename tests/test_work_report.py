"""Half-year progress reports and the year-end summary (seed 001 二（二）"年报告、季通报、月联系";
seed 004 §12; DOMAIN.md "Reporting cadence"): work_report.bpmn driven through the engine on SQLite
and PostgreSQL. The reform office starts a round naming who reports; each body reports its progress
with the report attached, reminded before the deadline and chased when late; the office reviews
each report (accept, or return it with a reason); once all are in it compiles the round's report,
at year end the annual summary, and the group leader reads it."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.commands import Engine
from engine.drive import answer_for, pick_user
from engine.errors import Forbidden, Invalid

from .conftest import add_people
from .plan_helper import ANSWERS, MEMBERS, Plan, audit_payloads, deploy_library, end_event

REPORTERS = [{"unit": "经济体制改革专项小组", "group": "special_group"},
             {"unit": "市财政局", "user": "zhang"},
             {"unit": "市政府办公厅", "user": "wang"}]
HALF_YEAR = {"reportPeriod": "half_year", "reportYear": 2026, "reportDeadline": "2026-07-10",
             "submissionDue": "2026-07-31"}
YEAR_END = {"reportPeriod": "year_end", "reportYear": 2026, "reportDeadline": "2026-12-20",
            "submissionDue": "2027-01-15"}
WITH_FILE = {"Task_SubmitReport", "Task_ReviseReport", "Task_CompileHalfYearReport", "Task_CompileAnnualReport"}
BODIES = ["special_group", "wang", "zhang"]  # a group (孙强 acts for it) and two users


class Round(Plan):
    """One reporting round, started by the reform office (chen)."""

    def __init__(self, engine, key="BG-2026-H1", reporters=REPORTERS):
        self.engine = engine
        self.view = engine.start("work_report", actor="chen", title="2026年改革进展报告", business_key=key,
                                 data={"reporters": reporters})
        self.id = self.view["id"]
        self.done: list[str] = []

    def tasks(self, element_id: str) -> list[dict]:
        return [t for t in self.refresh()["tasks"] if t["element_id"] == element_id]

    def body_task(self, element_id: str, who: str) -> dict:
        """The body's task: held by the user, or offered to the group."""
        [task] = [t for t in self.tasks(element_id) if who in (t["assignee"], *t["candidate_groups"])]
        return task

    def do(self, element_id: str, _task: dict | None = None, attach=True, **data) -> dict:
        """As Plan.do, attaching the report first where the step needs a file."""
        task = _task or self.task(element_id)
        user = pick_user(task, MEMBERS)
        if task["status"] == "open":
            self.engine.claim(task["id"], actor=user)
        if attach and element_id in WITH_FILE:
            self.engine.attach(task["id"], f"{element_id}.txt", "改革进展报告全文".encode(), actor=user)
        answer = {**answer_for(ANSWERS, task, self.done.count(element_id)), **data}
        result = self.engine.complete(task["id"], actor=user, data=answer)
        self.done.append(element_id)
        return result

    def report(self, who: str, **data) -> None:
        self.do("Task_SubmitReport", self.body_task("Task_SubmitReport", who), **data)

    def review_all(self, **data) -> None:
        for task in self.tasks("Task_ReviewReport"):
            self.do("Task_ReviewReport", task, **data)

    def values(self, task: dict) -> dict:
        return self.engine.task_view(task["id"])["values"]


def _documents(library, key: str, now: str) -> list[tuple[str, str]]:
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", now, "documents", key, "--json"])
    assert result.exit_code == 0, result.output
    return [(f["task_name"], f["attached_by"]) for f in json.loads(result.stdout)]


def test_a_half_year_round_every_report_accepted_goes_to_the_leader_and_is_approved(library, at):
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        confirm = plan.task("Task_ConfirmRound")
        assert (confirm["assignee"], plan.active) == ("chen", ["Task_ConfirmRound"])
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        # one report per body, at once, each due by the end of the deadline's day
        reports = plan.tasks("Task_SubmitReport")
        assert sorted((t["assignee"] or "", tuple(t["candidate_groups"]), t["due_at"]) for t in reports) == [
            ("", ("special_group",), "2026-07-10T16:00:00+00:00"),
            ("wang", (), "2026-07-10T16:00:00+00:00"), ("zhang", (), "2026-07-10T16:00:00+00:00")]
        zhang = plan.body_task("Task_SubmitReport", "zhang")
        shown = plan.values(zhang)
        assert (shown["reportingUnit"], shown["reportPeriod"], shown["reportYear"]) == ("市财政局", "half_year", 2026)
        # a report without the report itself is refused
        with pytest.raises(Invalid, match="须上传附件"):
            plan.do("Task_SubmitReport", zhang, attach=False)
        for who in BODIES:
            plan.report(who)
        # the office reviews each body's report, named on the form
        reviews = plan.tasks("Task_ReviewReport")
        assert sorted(plan.values(t)["reportingUnit"] for t in reviews) == ["市政府办公厅", "市财政局", "经济体制改革专项小组"]
        assert all(t["candidate_groups"] == ["reform_office"] for t in reviews)
        plan.review_all()
        # a half-year round: the half-year report, not the annual summary
        assert plan.active == ["Task_CompileHalfYearReport"]
        assert plan.task("Task_CompileHalfYearReport")["due_at"] == "2026-07-31T16:00:00+00:00"
        plan.do("Task_CompileHalfYearReport")
        leader = plan.task("Task_LeaderReview")
        assert leader["candidate_groups"] == ["group_leader"]
        assert plan.values(leader)["reportTitle"] == "上半年全面深化改革进展情况报告"
        plan.do("Task_LeaderReview")
    assert plan.created == (["Task_ConfirmRound"] + ["Task_SubmitReport"] * 3 + ["Task_ReviewReport"] * 3
                            + ["Task_CompileHalfYearReport", "Task_LeaderReview"])
    assert plan.refresh()["status"] == "completed" and end_event(library, plan.id) == "Event_ReportApproved"
    assert plan.variables["reportApprovedOn"] == "2026-06-15"
    assert plan.audit_ok()
    # every report and the compiled one are kept with the round, each with who uploaded it
    assert sorted(_documents(library, "BG-2026-H1", "2026-06-16T09:00:00")) == [
        ("报送改革进展报告", "sun"), ("报送改革进展报告", "wang"), ("报送改革进展报告", "zhang"),
        ("编写半年改革进展汇总报告", "chen")]
    with at("2026-08-01T09:00:00"):
        [row] = library.ledger(process="work_report")
    assert (row["business_key"], row["colour"], row["milestone"], row["milestone_due"], row["milestone_reached"]) == (
        "BG-2026-H1", "green", "汇总报告审定", "2026-07-31", "2026-06-15")
    # led by the reform office (the process property leadUnit), and counted under it for the assessment
    assert row["lead_unit"] == "市委改革办"


def test_the_office_returns_a_report_with_a_reason_and_the_body_resubmits(library, at):
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        for who in BODIES:
            plan.report(who)
        review = next(t for t in plan.tasks("Task_ReviewReport") if plan.values(t)["reportingUnit"] == "市财政局")
        # a return needs its reason and a date to report again by: both said at the form, the
        # review staying with its holder as it was
        with pytest.raises(Invalid, match=r"编审结论为「退回修改」时须填写「退回理由（退回时必填）」\(returnReason\)") as refused:
            plan.do("Task_ReviewReport", review, reviewDecision="return")
        assert "编审结论为「退回修改」时须填写「重新报送期限（退回时必填）」(resubmitBy)" in str(refused.value)
        assert [(p["field"], p["code"]) for p in refused.value.details] == [
            ("returnReason", "required"), ("resubmitBy", "required")]
        [claimed] = [t for t in plan.tasks("Task_ReviewReport") if plan.values(t)["reportingUnit"] == "市财政局"]
        with pytest.raises(Invalid, match=r"须填写「重新报送期限（退回时必填）」\(resubmitBy\)") as refused:
            plan.do("Task_ReviewReport", claimed, reviewDecision="return", returnReason="成效未量化")
        assert "returnReason" not in str(refused.value)
        [again] = [t for t in plan.tasks("Task_ReviewReport") if plan.values(t)["reportingUnit"] == "市财政局"]
        assert (again["id"], again["assignee"]) == (review["id"], "chen") and plan.tasks("Task_ReviseReport") == []
        plan.do("Task_ReviewReport", again, reviewDecision="return", returnReason="成效未量化", resubmitBy="2026-06-20")
        revise = plan.task("Task_ReviseReport")
        assert (revise["assignee"], revise["due_at"]) == ("zhang", "2026-06-20T16:00:00+00:00")
        shown = plan.engine.task_view(revise["id"])
        readonly = {f["id"] for f in shown["form"] if "readonly" in f["constraints"]}
        assert {"reportingUnit", "returnReason", "resubmitBy"} <= readonly
        assert (shown["values"]["returnReason"], shown["values"]["progressMade"]) == (
            "成效未量化", ANSWERS["Task_SubmitReport"]["progressMade"])  # prefilled with what was reported
        with pytest.raises(Invalid, match="须上传附件"):
            plan.do("Task_ReviseReport", revise, attach=False)
        plan.do("Task_ReviseReport", revise)
        # the other two reports wait for their review meanwhile; the revised one comes back to the office
        [back] = [t for t in plan.tasks("Task_ReviewReport") if plan.values(t)["reportingUnit"] == "市财政局"]
        assert plan.values(back)["revisionNotes"] == "已按编审意见补充量化成效"
        assert plan.tasks("Task_CompileHalfYearReport") == []
        plan.review_all()
        plan.finish()
    assert plan.created.count("Task_ReviewReport") == 4 and plan.created.count("Task_ReviseReport") == 1
    assert end_event(library, plan.id) == "Event_ReportApproved"
    # the return's reason and date stay in the record of the office's review
    returns = [e["new"] for e in audit_payloads(library, plan.id, "task_completed")
               if e["element_id"] == "Task_ReviewReport" and e["new"].get("reviewDecision") == "return"]
    assert [(r.get("returnReason"), r.get("resubmitBy")) for r in returns] == [("成效未量化", "2026-06-20")]
    assert plan.audit_ok()


def test_an_overdue_report_is_reminded_then_chased_and_the_chase_withdrawn_when_it_comes_in(library, at):
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        plan.report("special_group")
        plan.report("wang")
    # three days before the deadline: the report not yet in is reminded, nothing else
    plan.fire_timers_at(at, "2026-07-08T09:00:00")
    reminded = {t["assignee"] or t["candidate_groups"][0]: t["reminded_at"] for t in plan.refresh()["tasks"]}
    assert reminded == {"zhang": "2026-07-08T01:00:00+00:00", "reform_office": None}
    assert plan.tasks("Task_UrgeReport") == []
    # past the deadline: the reform office is asked to chase it, and sees whose report is late
    assert "Event_SubmitOverdue" in plan.fire_timers_at(at, "2026-07-11T09:00:00")
    [chase] = plan.tasks("Task_UrgeReport")
    assert chase["candidate_groups"] == ["reform_office"] and chase["priority"] == 80
    assert (plan.values(chase)["reportingUnit"], plan.values(chase)["reportDeadline"]) == ("市财政局", "2026-07-10")
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["progress_report_overdue"]
    with at("2026-07-11T09:00:00"):
        [row] = library.ledger(process="work_report")
        assert row["colour"] == "red"
        assert [(m["what"], m["done_at"], m["days_late"]) for m in row["missed"]] == [
            ("报送改革进展报告（市财政局）", None, 1)]
    # the report comes in before the chase is done: the chase is withdrawn
    with at("2026-07-12T09:00:00"):
        plan.report("zhang")
        assert plan.tasks("Task_UrgeReport") == [] and len(plan.tasks("Task_ReviewReport")) == 3
        cancelled = audit_payloads(library, plan.id, "task_cancelled")
        assert [e["element_id"] for e in cancelled] == ["Task_UrgeReport"]
        plan.review_all()
        plan.finish()
    assert end_event(library, plan.id) == "Event_ReportApproved"
    with at("2026-07-13T09:00:00"):
        [row] = library.ledger(process="work_report")
    assert row["colour"] == "yellow"  # late, and since made up
    assert plan.audit_ok()


def _office_reads(library, now: str, *args) -> str:
    """What the reform office reads on the command line at `now`."""
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", now, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_each_step_of_a_round_names_its_reporting_body_wherever_the_office_sees_it(
        library, at, tmp_path):
    """Ten bodies made ten identical lines 编审单位报告: the inbox, a task's page, the ledger (and
    its file) and the trail say whose report each step is about."""
    bodies = [{"unit": "市财政局", "user": "zhang"}, {"unit": "市政府办公厅", "user": "wang"}]
    with at("2026-06-15T09:00:00"):
        plan = Round(library, reporters=bodies)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        plan.report("zhang")
    plan.fire_timers_at(at, "2026-07-08T09:00:00")  # reminded before the deadline, as a running worker does
    plan.fire_timers_at(at, "2026-07-11T09:00:00")  # 市政府办公厅 has not reported: chased
    [review] = plan.tasks("Task_ReviewReport")
    [chase] = plan.tasks("Task_UrgeReport")
    [late] = plan.tasks("Task_SubmitReport")
    assert (review["subject"], chase["subject"], late["subject"]) == ("市财政局", "市政府办公厅", "市政府办公厅")
    now = "2026-07-11T10:00:00"
    inbox = _office_reads(library, now, "tasks", "--as", "chen", "--instance", "BG-2026-H1")
    assert inbox.splitlines() == [  # the overdue report first, then the chase (priority 80)
        f"  待办 (task) {late['id']}：报送改革进展报告（市政府办公厅） (Task_SubmitReport) [已认领 claimed] wang 期限 (due) "
        "2026-07-10 已逾期 已提醒 (reminded) 2026-07-08 09:00 — BG-2026-H1 2026年改革进展报告",
        f"  待办 (task) {chase['id']}：催报改革进展报告（市政府办公厅） (Task_UrgeReport) [待认领 open] reform_office"
        " — BG-2026-H1 2026年改革进展报告",
        f"  待办 (task) {review['id']}：编审单位报告（市财政局） (Task_ReviewReport) [待认领 open] reform_office"
        " — BG-2026-H1 2026年改革进展报告"]
    assert [t["subject"] for t in json.loads(_office_reads(library, now, "tasks", "--as", "chen", "--instance",
                                                          "BG-2026-H1", "--json"))["tasks"]] == ["市政府办公厅"] * 2 + ["市财政局"]
    page = _office_reads(library, now, "task", str(review["id"]))
    assert page.startswith(f"  待办 (task) {review['id']}：编审单位报告（市财政局） (Task_ReviewReport)")
    ledger = _office_reads(library, now, "ledger", "--process", "work_report")
    assert ("    当前 (now)：报送改革进展报告（市政府办公厅）（王芳） 期限 (due) 2026-07-10 已逾期\n"
            "    当前 (now)：编审单位报告（市财政局）（待认领 (open)：改革办）\n"
            "    当前 (now)：催报改革进展报告（市政府办公厅）（待认领 (open)：改革办）\n") in ledger
    assert "    延误 (missed)：报送改革进展报告（市政府办公厅）：期限 2026-07-10，已逾期 1 天 (due 2026-07-10, 1 day overdue)" \
        in ledger
    [row] = json.loads(_office_reads(library, now, "ledger", "--process", "work_report", "--json"))["plans"]
    assert [(t["name"], t["subject"]) for t in row["current"]] == [
        ("报送改革进展报告", "市政府办公厅"), ("编审单位报告", "市财政局"), ("催报改革进展报告", "市政府办公厅")]
    _office_reads(library, now, "ledger", "--process", "work_report", "--output", str(tmp_path / "台账.csv"))
    exported = (tmp_path / "台账.csv").read_text(encoding="utf-8-sig")
    assert ("报送改革进展报告（市政府办公厅）（王芳）、编审单位报告（市财政局）（待认领：改革办）、"
            "催报改革进展报告（市政府办公厅）（待认领：改革办）") in exported
    with at("2026-07-12T09:00:00"):
        plan.report("wang")
    trail = _office_reads(library, "2026-07-12T10:00:00", "history", "BG-2026-H1")
    for line in ("生成待办 (task created) 报送改革进展报告（市财政局）（张伟，期限 (due) 2026-07-10）",
                 "生成待办 (task created) 报送改革进展报告（市政府办公厅）（王芳，期限 (due) 2026-07-10）",
                 "提交 (completed) 报送改革进展报告（市财政局）：",
                 "生成待办 (task created) 编审单位报告（市财政局）（改革办）",
                 "生成待办 (task created) 催报改革进展报告（市政府办公厅）（改革办）",
                 "撤销待办 (cancelled) 催报改革进展报告（市政府办公厅）",
                 "生成待办 (task created) 编审单位报告（市政府办公厅）（改革办）"):
        assert line in trail, line
    events = json.loads(_office_reads(library, "2026-07-12T10:00:00", "history", "BG-2026-H1", "--json"))["events"]
    assert {(e["name"], e["subject"]) for e in events if e["event_type"] == "task_created"} == {
        ("确认报告轮次", None), ("报送改革进展报告", "市财政局"), ("报送改革进展报告", "市政府办公厅"),
        ("编审单位报告", "市财政局"), ("编审单位报告", "市政府办公厅"), ("催报改革进展报告", "市政府办公厅")}


def test_each_body_is_reminded_once_not_once_per_body(library, at):
    """Each body's report has its own reminder timer. Each one reminded every body's task, so with
    three bodies the history showed nine reminders (with twenty, four hundred)."""
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
    assert plan.fire_timers_at(at, "2026-07-08T09:00:00").count("Event_SubmitReminder") == 3
    reminded = [(e["element_id"], e["to"]) for e in audit_payloads(library, plan.id, "task_reminded")]
    assert sorted(reminded) == [("Task_SubmitReport", ["group:special_group"]), ("Task_SubmitReport", ["wang"]),
                                ("Task_SubmitReport", ["zhang"])]
    assert all(t["reminded_at"] == "2026-07-08T01:00:00+00:00" for t in plan.tasks("Task_SubmitReport"))


def test_at_year_end_the_office_compiles_the_annual_summary_and_the_leader_returns_it_with_comments(
        library, at):
    with at("2026-12-01T09:00:00"):
        plan = Round(library, key="BG-2026-NB")
        plan.do("Task_ConfirmRound", **YEAR_END)
        for who in BODIES:
            plan.report(who)
        plan.review_all()
        assert plan.active == ["Task_CompileAnnualReport"]
        plan.do("Task_CompileAnnualReport")
        reading = plan.task("Task_LeaderReview")["id"]
        # a return needs the leader's comments: refused at the form, the same reading still open
        with pytest.raises(Invalid, match=r"审阅意见为「退回修改」时须填写「修改意见（退回时必填）」\(leaderComments\)"):
            plan.do("Task_LeaderReview", leaderDecision="return")
        assert plan.active == ["Task_LeaderReview"] and plan.task("Task_LeaderReview")["id"] == reading
        plan.do("Task_LeaderReview", leaderDecision="return", leaderComments="补充重点突破改革项目的量化成效")
        compile_again = plan.task("Task_CompileAnnualReport")
        shown = plan.engine.task_view(compile_again["id"])
        assert shown["values"]["leaderComments"] == "补充重点突破改革项目的量化成效"
        assert "readonly" in next(f for f in shown["form"] if f["id"] == "leaderComments")["constraints"]
        # the revised report is attached anew
        with pytest.raises(Invalid, match="须上传附件"):
            plan.do("Task_CompileAnnualReport", compile_again, attach=False)
        plan.do("Task_CompileAnnualReport", compile_again, reportSummary="已补充重点突破项目量化成效")
        plan.do("Task_LeaderReview")
    assert plan.created[-4:] == ["Task_CompileAnnualReport", "Task_LeaderReview",
                                 "Task_CompileAnnualReport", "Task_LeaderReview"]
    assert "Task_CompileHalfYearReport" not in plan.created
    assert end_event(library, plan.id) == "Event_ReportApproved"
    decisions = [e["new"].get("leaderDecision") for e in audit_payloads(library, plan.id, "task_completed")
                 if e["element_id"] == "Task_LeaderReview"]
    assert decisions == ["return", "approve"]
    assert plan.audit_ok()


WELL_FORMED = '每项应为 {"unit": "单位名称", "user": "用户名"} 或 {"unit": "单位名称", "group": "用户组"}'


@pytest.mark.parametrize("reporters, refusal", [
    (None, "启动数据须列出报送单位 reporters（至少一项）"),
    ([], "启动数据须列出报送单位 reporters（至少一项）"),
    ("市财政局", "启动数据须列出报送单位 reporters（至少一项）"),
    ([REPORTERS[0], "市财政局"], "reporters 第2项不是对象"),
    ([{"group": "special_group"}], "reporters 第1项缺少单位名称 unit"),
    ([REPORTERS[1], {"unit": " ", "user": "wang"}], "reporters 第2项缺少单位名称 unit"),
    ([{"unit": "市财政局", "user": "zhang", "group": "drafter"}], "reporters 第1项同时有 user 和 group，只能有其一"),
    ([{"unit": "市财政局", "user": ""}], "reporters 第1项缺少报送人 user 或报送用户组 group"),
    ([{"unit": "市财政局", "user": 7}], "reporters 第1项的 user 应为文字"),
    ([REPORTERS[0], {"unit": "市财政局", "user": "zhnag"}], "reporters 第2项的用户 zhnag 不存在或已停用"),
    ([{"unit": "经济体制改革专项小组", "group": "special_grup"}], "reporters 第1项的用户组 special_grup 不存在"),
    ([*REPORTERS, {"unit": "市财政局 ", "user": "wang"}], "reporters 第4项的单位「市财政局 」与第2项重复"),
    # a space inside, an input method's full-width digit: the same body twice, two report steps
    ([*REPORTERS, {"unit": "市 财政局", "user": "wang"}], "reporters 第4项的单位「市 财政局」与第2项重复"),
    ([{"unit": "第1中学", "user": "zhang"}, {"unit": "第１中学", "user": "wang"}], "reporters 第2项的单位「第１中学」与第1项重复"),
    # the unit names the body's step in every inbox line: a line break forged a second line
    ([{"unit": "市财政局\n  待办 (task) 99：伪造", "user": "zhang"}], "reporters 第1项的单位名称含有控制字符或不可见字符（U+000A"),
    ([{"unit": "市财政局\u202e", "user": "zhang"}], "reporters 第1项的单位名称含有控制字符或不可见字符（U+202E"),
    ([{"unit": "局" * 201, "user": "zhang"}], "reporters 第1项的单位名称超过 200 个字符"),
])
def test_a_malformed_list_of_bodies_is_refused_at_start_and_nothing_is_saved(library, reporters, refusal):
    """A body without user or group, or without unit, used to be found only later (a report nobody
    of the body could claim; 确认报告轮次 refused), and the round had to be cancelled and started
    again. The diagram's process property reportingBodies names `reporters` as a list of bodies:
    start refuses a wrong one, naming the item and showing a right one."""
    data = {} if reporters is None else {"reporters": reporters}
    with pytest.raises(Invalid) as refused:
        library.start("work_report", actor="chen", title="2026年改革进展报告", business_key="BG-2026-H1", data=data)
    assert refusal in refused.value.message and WELL_FORMED in refused.value.message
    assert library.ledger(process="work_report") == []
    assert audit_payloads(library, None, "instance_started") == []


def test_a_deactivated_reporter_is_refused_at_start(library):
    library.deactivate_user("wang", actor="chen")
    with pytest.raises(Invalid, match="reporters 第3项的用户 wang 不存在或已停用"):
        Round(library)
    library.reactivate_user("wang", actor="chen")
    assert Round(library).refresh()["status"] == "running"


def test_start_refuses_a_wrong_list_on_the_command_line(sqlite_db):
    """`reformflow start … --data`: exit 1 (invalid), one line on stderr, and with --json the error
    object; no plan saved."""
    engine = Engine(sqlite_db)
    add_people(engine)
    deploy_library(engine)
    runner = CliRunner()
    data = json.dumps({"reporters": [{"unit": "市财政局", "user": "zhang"}, {"unit": "市国资委"}]}, ensure_ascii=False)
    args = ["--db", sqlite_db.url, "start", "work_report", "--as", "chen", "--data", data]
    plain = runner.invoke(main, args)
    assert plain.exit_code == 3 and plain.stdout == ""
    assert plain.stderr.count("\n") == 1 and "reporters 第2项缺少报送人 user 或报送用户组 group" in plain.stderr
    as_json = runner.invoke(main, [*args, "--json"])
    assert json.loads(as_json.stdout)["error"] == "invalid" and "第2项" in json.loads(as_json.stdout)["message"]
    assert engine.ledger(process="work_report") == []


def test_only_the_reform_office_starts_a_round(library):
    with pytest.raises(Forbidden):
        library.start("work_report", actor="zhang", data={"reporters": REPORTERS})


def test_a_reminder_that_fires_only_after_its_deadline_is_not_sent(library, at):
    """The worker stopped and caught up after the deadline: the overdue chase, not a
    "deadline approaching" reminder recorded (and mailed) after it, as the trail had it."""
    bodies = [{"unit": "市财政局", "user": "zhang"}, {"unit": "市政府办公厅", "user": "wang"}]
    with at("2026-06-15T09:00:00"):
        plan = Round(library, reporters=bodies)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
    fired = plan.fire_timers_at(at, "2026-07-11T09:00:00")  # the reminders were due on 07-07
    assert "Event_SubmitReminder" in fired  # the timer is the engine's fact: it fired, late
    assert audit_payloads(library, plan.id, "task_reminded") == []
    assert all(t["reminded_at"] is None for t in plan.tasks("Task_SubmitReport"))
    assert len(plan.tasks("Task_UrgeReport")) == 2  # the overdue path did its work


def test_another_bodys_report_is_accepted_while_one_is_out_for_revision(library, at):
    """The concurrency audit of 6 December 2026: once one body's report was sent back, accepting any
    other's was refused, the office blocked until the body resubmitted. The accept writes its
    resubmitBy (empty) as the plan's latest value, and the body's open 按编审意见修改报告, whose
    deadline is ${resubmitBy}, was computed again from it: each body's round has its own values."""
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        for who in BODIES:
            plan.report(who)
        reviews = {plan.values(t)["reportingUnit"]: t for t in plan.tasks("Task_ReviewReport")}
        plan.do("Task_ReviewReport", reviews["市财政局"], reviewDecision="return", returnReason="成效未量化",
                resubmitBy="2026-06-20")
        plan.do("Task_ReviewReport", reviews["市政府办公厅"], reviewDecision="accept")
        [revise] = plan.tasks("Task_ReviseReport")
        assert (revise["assignee"], revise["due_at"]) == ("zhang", "2026-06-20T16:00:00+00:00")  # kept as set
        assert plan.values(revise)["resubmitBy"] == "2026-06-20"
        plan.do("Task_ReviewReport", reviews["经济体制改革专项小组"], reviewDecision="accept")
        plan.do("Task_ReviseReport", plan.task("Task_ReviseReport"))
        plan.review_all()
        plan.finish()
    assert end_event(library, plan.id) == "Event_ReportApproved"
    assert plan.audit_ok()
