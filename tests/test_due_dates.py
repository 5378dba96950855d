"""Due dates computed from variables: each instance of a multi-instance task keeps its own
item, and an open task's due date is not computed again unless a value it names changes.
(A due date following a changed value is shown in the filing scenarios of test_reform_plan.)"""
from __future__ import annotations

import json
from datetime import date

import pytest

from engine.errors import Forbidden

from .conftest import FIXTURES
from .plan_helper import Plan, audit_payloads

PARALLEL = FIXTURES / "corpus" / "multi_instance_parallel.bpmn"
# the legal department has 3 days, every other one 10
DUE = 'camunda:dueDate="${department == \'legal\' ? \'P3D\' : \'P10D\'}"'


def _deploy_with_due_dates(engine):
    xml = PARALLEL.read_text(encoding="utf-8")
    assert xml.count('camunda:candidateGroups="${department}"') == 1
    xml = xml.replace('camunda:candidateGroups="${department}"', f'camunda:candidateGroups="${{department}}" {DUE}')
    engine.deploy([(PARALLEL.name, xml.encode("utf-8"))])


def _dues(engine, plan_id) -> dict[str, str]:
    return {t["candidate_groups"][0]: t["due_at"] for t in engine.instance(plan_id)["tasks"]}


def test_each_instance_of_a_multi_instance_task_is_due_by_its_own_item(engine, people, at):
    _deploy_with_due_dates(engine)
    with at("2026-03-02T09:00:00"):
        plan = engine.start("corpus_multi_instance_parallel", actor="zhang",
                            data={"departments": ["legal", "risk", "expert"]})
    assert _dues(engine, plan["id"]) == {"legal": "2026-03-05T01:00:00+00:00",
                                         "risk": "2026-03-12T01:00:00+00:00",
                                         "expert": "2026-03-12T01:00:00+00:00"}
    with at("2026-03-03T09:00:00"):
        [legal] = [t for t in plan["tasks"] if t["candidate_groups"] == ["legal"]]
        engine.claim(legal["id"], actor="li")
        engine.complete(legal["id"], actor="li", data={"opinion": "同意"})
    # the other departments' tasks keep their dates: another instance's item is not theirs
    assert _dues(engine, plan["id"]) == {"risk": "2026-03-12T01:00:00+00:00", "expert": "2026-03-12T01:00:00+00:00"}
    assert audit_payloads(engine, plan["id"], "task_due_changed") == []


# ----------------------------------------------------------------- the calendar entered later

def test_entering_a_holiday_later_counts_working_day_deadlines_across_it_again(library, at):
    """chinesecalendar 1.11.0 knows no 2027: a legality review opened on Fri 18 Dec 2026 is
    counted on the statutory holidays and weekends, 1 Jan 2027 off by law but Mon 4 Jan, a
    bridging day the State Council may give, a working day. Entered as a day off, the review's
    due date and its reminder move one working day on; what does not cross it stays."""
    with at("2026-12-18T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
        review = plan.task("Task_LegalityReview")
    # 15 working days: 21–25, 28–31 Dec (9), (1 Jan off,) 4–8, 11 Jan: end of Mon 11 Jan
    assert review["due_at"] == "2027-01-11T16:00:00+00:00"
    assert plan.refresh()["next_timer_at"] == "2027-01-07T16:00:00+00:00"  # reminder: 2 working days before
    with at("2026-12-21T09:00:00"):
        library.set_calendar_day(date(2027, 1, 4), working=False, note="元旦调休", actor="chen")
        moved = library.recount_working_days(date(2027, 1, 4), actor="chen")
    assert plan.task("Task_LegalityReview")["due_at"] == "2027-01-12T16:00:00+00:00"  # Tue 12 Jan
    assert plan.refresh()["next_timer_at"] == "2027-01-08T16:00:00+00:00"
    [mine] = [m for m in moved if m["instance_id"] == plan.id]
    assert [(t["element_id"], t["old"], t["new"]) for t in mine["tasks"]] == [
        ("Task_LegalityReview", "2027-01-11T16:00:00+00:00", "2027-01-12T16:00:00+00:00")]
    # the reminder and the overdue escalation on the review move with it
    assert sorted((t["element_id"], t["new"]) for t in mine["timers"]) == [
        ("Event_ReviewOverdue", "2027-01-12T16:00:00+00:00"), ("Event_ReviewReminder", "2027-01-08T16:00:00+00:00")]
    [changed] = audit_payloads(library, plan.id, "task_due_changed")
    assert changed["reason"] == "calendar"
    assert sorted((t["element_id"], t["old"]["due"], t["new"]["due"]) for t in audit_payloads(
        library, plan.id, "timer_moved")) == [
        ("Event_ReviewOverdue", "2027-01-11T16:00:00+00:00", "2027-01-12T16:00:00+00:00"),
        ("Event_ReviewReminder", "2027-01-07T16:00:00+00:00", "2027-01-08T16:00:00+00:00")]
    # the reminder now fires on its new day, not the old one
    assert plan.fire_timers_at(at, "2027-01-08T09:00:00") == []
    assert plan.fire_timers_at(at, "2027-01-09T00:00:01") == ["Event_ReviewReminder"]
    # counting again changes nothing more
    with at("2026-12-21T09:00:00"):
        assert library.recount_working_days(date(2027, 1, 4), actor="chen") == []
    assert plan.audit_ok()


def test_only_the_reform_office_counts_deadlines_again(library):
    with pytest.raises(Forbidden):
        library.recount_working_days(date(2027, 1, 1), actor="li")


SUBPROCESS = FIXTURES / "corpus" / "embedded_subprocess.bpmn"
# five working days for the whole check, on the subprocess that holds the check's task
CHECK_OVERDUE = (
    '<bpmn:boundaryEvent id="Event_CheckOverdue" name="核查期限届满" cancelActivity="false" '
    'attachedToRef="Activity_17xlmt2"><bpmn:outgoing>Flow_CheckOverdue</bpmn:outgoing><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${workingDays(5)}</bpmn:timeDuration>'
    '</bpmn:timerEventDefinition></bpmn:boundaryEvent>'
    '<bpmn:endEvent id="Event_CheckOverdueNoted" name="核查逾期"><bpmn:incoming>Flow_CheckOverdue</bpmn:incoming>'
    '</bpmn:endEvent><bpmn:sequenceFlow id="Flow_CheckOverdue" sourceRef="Event_CheckOverdue" '
    'targetRef="Event_CheckOverdueNoted" />')
CHECK_OVERDUE_DI = (
    '<bpmndi:BPMNShape id="Event_CheckOverdue_di" bpmnElement="Event_CheckOverdue">'
    '<dc:Bounds x="600" y="262" width="36" height="36" /></bpmndi:BPMNShape>'
    '<bpmndi:BPMNShape id="Event_CheckOverdueNoted_di" bpmnElement="Event_CheckOverdueNoted">'
    '<dc:Bounds x="600" y="352" width="36" height="36" /></bpmndi:BPMNShape>'
    '<bpmndi:BPMNEdge id="Flow_CheckOverdue_di" bpmnElement="Flow_CheckOverdue">'
    '<di:waypoint x="618" y="298" /><di:waypoint x="618" y="352" /></bpmndi:BPMNEdge>')


def test_a_subprocess_timer_is_counted_again_from_when_the_subprocess_started_by_the_engine_clock(engine, people, at):
    """The check started on Mon 28 Dec 2026 by the engine's clock (the CLI's --now, or here the
    test's), whatever the computer's clock said: five working days from then, counted again when
    Monday 4 January becomes a bridging day off, end on Wed 6 Jan, not five working days from the
    real date."""
    xml = SUBPROCESS.read_text(encoding="utf-8")
    engine.deploy([(SUBPROCESS.name, xml.replace("</bpmn:process>", CHECK_OVERDUE + "</bpmn:process>").replace(
        "</bpmndi:BPMNPlane>", CHECK_OVERDUE_DI + "</bpmndi:BPMNPlane>").encode())])
    with at("2026-12-28T09:00:00"):
        plan = engine.start("corpus_embedded_subprocess", actor="zhang")
    # 29, 30, 31 Dec, (1 Jan off by law,) 4, 5 Jan: end of Tue 5 Jan
    assert engine.instance(plan["id"])["next_timer_at"] == "2027-01-05T16:00:00+00:00"
    with at("2026-12-29T09:00:00"):
        engine.set_calendar_day(date(2027, 1, 4), working=False, note="元旦调休", actor="chen")
        [moved] = engine.recount_working_days(date(2027, 1, 4), actor="chen")
    assert [(t["element_id"], t["old"], t["new"]) for t in moved["timers"]] == [
        ("Event_CheckOverdue", "2027-01-05T16:00:00+00:00", "2027-01-06T16:00:00+00:00")]
    assert engine.instance(plan["id"])["next_timer_at"] == "2027-01-06T16:00:00+00:00"


def test_a_plan_whose_deadlines_cannot_be_counted_again_leaves_the_others_counted(library, at, monkeypatch):
    """Counting again is one transaction per plan. One plan's engine error (here, as if its due
    date no longer evaluated) stopped the rest, after the calendar change was saved: the plans
    after it kept deadlines counted on the old calendar, with no word of which. Now that plan is
    named with its error, its own transaction undone, and the others are counted; the command
    line and the calendar page say so and what to do."""
    from engine import clock, recount
    from engine.expressions import ExpressionError

    from .test_audit import cli
    from .web_helper import signed_in_client
    with at("2026-12-18T09:00:00"):
        broken = Plan(library)
        broken.run_until("Task_LegalityReview")
    with at("2026-12-18T09:30:00"):  # the same deadlines, but its review opened at another minute
        sound = Plan(library, title="深化医药卫生体制改革方案")
        sound.run_until("Task_LegalityReview")
    counted = recount.recount_timers

    def failing_for_the_plan_opened_at_nine(env, task, since):
        # after the plan's due date was counted and written: the error undoes that too
        if since.astimezone(clock.TZ).minute == 0:
            raise ExpressionError("期限表达式无法计算 (the due date cannot be counted)")
        return counted(env, task, since)
    monkeypatch.setattr(recount, "recount_timers", failing_for_the_plan_opened_at_nine)
    with at("2026-12-21T09:00:00"):
        library.set_calendar_day(date(2027, 1, 4), working=False, note="元旦调休", actor="chen")
        moved = library.recount_working_days(date(2027, 1, 4), actor="chen")
    by_plan = {m["instance_id"]: m for m in moved}
    assert by_plan[broken.id]["tasks"] == [] and "期限表达式无法计算" in by_plan[broken.id]["error"]
    assert [t["new"] for t in by_plan[sound.id]["tasks"]] == ["2027-01-12T16:00:00+00:00"]
    assert "error" not in by_plan[sound.id]
    # the broken plan's transaction was undone whole: its timers did not move without its due date
    assert broken.task("Task_LegalityReview")["due_at"] == "2027-01-11T16:00:00+00:00"
    assert broken.refresh()["next_timer_at"] == "2027-01-07T16:00:00+00:00"
    assert audit_payloads(library, broken.id, "timer_moved") == []
    assert audit_payloads(library, broken.id, "task_due_changed") == []
    assert sound.task("Task_LegalityReview")["due_at"] == "2027-01-12T16:00:00+00:00"
    assert broken.audit_ok()

    # the command line names the plan on stderr and says what to do
    said = cli(library.db, "--now", "2026-12-21T10:00:00", "calendar", "set", "2027-01-05", "--off",
               "--note", "元旦调休", "--as", "chen")
    assert f"方案 (plan) {broken.id} 的期限未能重新计算（" in said.stderr and "期限表达式无法计算" in said.stderr
    assert "其他方案已照常计算；问题解决后运行 reformflow calendar recount --as 改革办用户名 再算一次" in said.stderr
    assert f"方案 (plan) {sound.id}：待办 (task)" in said.output  # the sound plan moved on by another day

    # `calendar recount`, the command run again to finish, fails while a plan cannot be counted
    again = cli(library.db, "--now", "2026-12-21T10:30:00", "calendar", "recount", "--as", "chen", "--json", code=3)
    assert json.loads(again.stdout)["failed"] == 1

    # and so does the calendar page
    library.set_password("chen", "correct horse battery", actor="chen", first=True)
    with at("2026-12-21T11:00:00"):
        chen = signed_in_client(library, "chen", "correct horse battery")
        page = chen.post("/calendar/2027/day", data={"day": "2027-01-06", "action": "off", "note": "试", "seen": json.dumps(
            {"2027-01-04": [False, "元旦调休"], "2027-01-05": [False, "元旦调休"]})})
    html = page.get_data(as_text=True)
    assert f'data-recount-failed="{broken.id}"' in html and "1 个方案的待办期限未能重新计算，其他方案已照常计算" in html
    assert "期限表达式无法计算" in html and f'data-recount-failed="{sound.id}"' not in html
