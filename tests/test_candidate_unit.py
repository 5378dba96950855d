"""A drafting step belongs to the lead unit's drafters, not to every drafter in the city: a user
task's `candidateUnit` property (${leadUnit}) keeps it, while open for its group, to the members
of that unit — in claim, the claimable inbox, a leaver's hand-back — and the reform office may
still assign it to anyone of the group, on the trail."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.checks import check_processes
from engine.demo import STANDARD_ANSWERS as ANSWERS
from engine.drive import answer_for
from engine.cli import main
from engine.errors import Forbidden
from engine.queries import list_tasks

from .plan_helper import Plan, audit_payloads
from .test_checks import simple

# zhang and wang draft for 市财政局 (tests/conftest.py); luo drafts for another bureau
LEAD_UNIT = "市财政局"


@pytest.fixture
def city(library):
    library.add_user("luo", "罗敏", groups=["drafter"], unit="市科技局")
    return library


def claimable(engine, username: str) -> list[int]:
    with engine.db.reader() as s:
        return [t["id"] for t in list_tasks(s, username, "claimable")]


def open_register(engine, lead_unit: str = LEAD_UNIT) -> dict:
    """A plan of `lead_unit` whose first drafting step zhang gave back: open to its group."""
    plan = Plan(engine, data={"leadUnit": lead_unit})
    [register] = plan.refresh()["tasks"]
    assert register["assignee"] == "zhang"
    return engine.unclaim(register["id"], actor="zhang")


def test_another_units_drafter_neither_sees_nor_claims_an_open_drafting_step(city):
    task = open_register(city, f"  {LEAD_UNIT} ")  # the unit as entered, with spaces: compared trimmed
    assert (task["status"], task["candidate_groups"], task["candidate_unit"]) == ("open", ["drafter"], LEAD_UNIT)
    assert task["id"] not in claimable(city, "luo")
    with pytest.raises(Forbidden, match=f"仅限{LEAD_UNIT}的人员认领，您属于市科技局；如需由您办理，请联系改革办指派"):
        city.claim(task["id"], actor="luo")
    with pytest.raises(Forbidden, match=f"仅限{LEAD_UNIT}的人员办理"):
        city.complete(task["id"], actor="luo", data={})
    # the lead unit's colleague sees and takes it
    assert task["id"] in claimable(city, "wang")
    assert city.claim(task["id"], actor="wang")["assignee"] == "wang"


def test_a_leavers_drafting_step_goes_to_a_colleague_of_the_unit_only(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    [register] = plan.refresh()["tasks"]
    left = city.deactivate_user("zhang", actor="chen")
    assert [t["id"] for t in left["returned"]] == [register["id"]]
    assert left["returned"][0]["candidate_unit"] == LEAD_UNIT
    assert register["id"] in claimable(city, "wang") and register["id"] not in claimable(city, "luo")
    city.claim(register["id"], actor="wang")


def test_a_step_of_a_unit_nobody_active_works_in_is_listed_for_the_office(city):
    """Handed back to a unit without an active drafter it would wait unseen: it stays with the
    leaver and the office is told to assign it. luo is 市科技局's only drafter."""
    plan = Plan(city, data={"leadUnit": "市科技局"}, starter="luo")
    [register] = plan.refresh()["tasks"]
    left = city.deactivate_user("luo", actor="chen")
    assert (left["returned"], [t["id"] for t in left["to_assign"]]) == ([], [register["id"]])
    assert plan.task("Task_RegisterPlan")["assignee"] == "luo"


def test_the_office_may_assign_a_drafting_step_to_another_units_drafter_on_the_trail(city):
    task = open_register(city)
    assigned = city.assign(task["id"], to="luo", actor="chen")
    assert (assigned["status"], assigned["assignee"]) == ("claimed", "luo")
    [event] = audit_payloads(city, task["instance_id"], "task_assigned")
    assert (event["new"], event["candidate_unit"], event["unit"]) == ({"assignee": "luo"}, LEAD_UNIT, "市科技局")
    # to its own unit's drafter: nothing out of the ordinary to record
    city.assign(task["id"], to="wang", actor="chen", reassign=True)
    assert "candidate_unit" not in audit_payloads(city, task["instance_id"], "task_assigned")[-1]


def test_check_takes_candidate_unit_as_one_expression_only():
    task = ('<bpmn:userTask id="Task_A" name="起草" camunda:candidateGroups="drafter"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="candidateUnit" value="{}" /></camunda:properties>'
            '</bpmn:extensionElements></bpmn:userTask>')

    def problems(value):
        return [p["message"] for p in check_processes([("t.bpmn", simple(task.replace("{}", value)))])
                if p["rule"] == "assignment"]
    assert problems("${leadUnit}") == []
    assert problems("${empty leadUnit ? '' : leadUnit}") == []
    [literal] = problems("市财政局")
    assert literal.startswith("t.bpmn") or "candidateUnit" in literal
    assert "须为一个完整的 ${...} 表达式" in literal
    assert len(problems("${leadUnit")) == 1


def test_giving_back_a_step_nobody_else_of_its_unit_may_claim_says_who_may_take_it_now(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    [register] = plan.refresh()["tasks"]
    city.deactivate_user("wang", actor="chen")  # zhang's only colleague in the unit
    result = CliRunner().invoke(main, ["--db", city.db.url, "unclaim", str(register["id"]), "--as", "zhang"])
    assert result.exit_code == 0, result.output
    assert f"{LEAD_UNIT}无其他在岗人员可认领：您仍可再认领，或由改革办指派：reformflow assign {register['id']}" in result.stdout
    city.claim(register["id"], actor="zhang")  # as it says: he may take it back
    city.unclaim(register["id"], actor="zhang")
    assert register["id"] not in claimable(city, "luo")
    # with a colleague to claim it, nothing more to say
    city.reactivate_user("wang", actor="chen")
    city.claim(register["id"], actor="zhang")
    result = CliRunner().invoke(main, ["--db", city.db.url, "unclaim", str(register["id"]), "--as", "zhang", "--json"])
    assert result.exit_code == 0 and "to_assign" not in json.loads(result.stdout)


def test_a_step_given_by_initiator_to_another_units_drafter_opens_for_the_lead_unit(city):
    """The office gives zhang's 确认方案任务信息 to luo, who sets her own unit, 市科技局, as the
    lead unit (a trailing full-width space and all): the steps that follow are 市科技局's, not
    zhang's through `${initiator}`."""
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    register = plan.task("Task_RegisterPlan")
    city.assign(register["id"], to="luo", actor="chen", reassign=True)
    city.complete(register["id"], actor="luo", data=answer_for(ANSWERS, register, 0) | {"leadUnit": "市科技局\u3000"})
    research = plan.task("Task_Research")
    assert (research["status"], research["assignee"], research["candidate_unit"]) == ("open", None, "市科技局")
    assert research["id"] in claimable(city, "luo") and research["id"] not in claimable(city, "zhang")
    with city.db.reader() as s:  # nor among all of zhang's tasks
        assert research["id"] not in [t["id"] for t in list_tasks(s, "zhang", "all")]
    with pytest.raises(Forbidden, match="仅限市科技局的人员认领，您属于市财政局"):
        city.claim(research["id"], actor="zhang")
    event = [e for e in audit_payloads(city, plan.id, "task_created") if e["element_id"] == "Task_Research"][-1]
    assert (event["assignee"], event["assignee_outside_unit"], event["unit"]) == (None, "zhang", LEAD_UNIT)
    history = CliRunner().invoke(main, ["--db", city.db.url, "history", str(plan.id)])
    assert "原办理人 zhang 属市财政局，本任务限市科技局" in history.stdout
    # and so is every drafting step after it
    city.claim(research["id"], actor="luo")
    city.complete(research["id"], actor="luo", data=answer_for(ANSWERS, research, 0))
    draft = plan.task("Task_DraftPlan")
    assert (draft["status"], draft["candidate_unit"]) == ("open", "市科技局") and draft["id"] in claimable(city, "luo")


def test_a_drafter_cannot_hand_the_plan_to_another_unit_at_its_first_step(city):
    """starterUnit on reform_plan: zhang (市财政局) may confirm his own unit, not name another's;
    the refusal changes nothing."""
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    register = plan.task("Task_RegisterPlan")
    answer = answer_for(ANSWERS, register, 0)
    before = len(audit_payloads(city, plan.id, "task_completed"))
    with pytest.raises(Forbidden, match="牵头单位（leadUnit）只能填本单位（市财政局）；改为「市科技局」请由改革办办理"):
        city.complete(register["id"], actor="zhang", data=answer | {"leadUnit": "市科技局"})
    assert (plan.task("Task_RegisterPlan")["status"], len(audit_payloads(city, plan.id, "task_completed"))) == ("claimed", before)
    assert plan.variables["leadUnit"] == LEAD_UNIT
    city.complete(register["id"], actor="zhang", data=answer | {"leadUnit": LEAD_UNIT})
    assert plan.task("Task_Research")["assignee"] == "zhang"


def test_a_drafter_names_their_own_unit_when_the_start_left_it_empty(city):
    """Started without a lead unit (reform_plan has no start form), it is set at the first step,
    under the same rule; naming another unit at the start is refused before anything exists."""
    with pytest.raises(Forbidden, match="您只能为本单位（市财政局）发起「改革方案全流程」，启动数据的 leadUnit 填的是「市科技局」"):
        Plan(city, data={"leadUnit": "市科技局"})
    plan = Plan(city)
    register = plan.task("Task_RegisterPlan")
    with pytest.raises(Forbidden, match="只能填本单位（市财政局）"):
        city.complete(register["id"], actor="zhang", data=answer_for(ANSWERS, register, 0) | {"leadUnit": "市科技局"})
    city.complete(register["id"], actor="zhang", data=answer_for(ANSWERS, register, 0) | {"leadUnit": "市财政局"})
    assert plan.task("Task_Research")["assignee"] == "zhang"


def test_a_plan_a_drafter_starts_without_a_unit_is_their_units_from_the_start(city):
    """The web's start page has no lead unit: the plan began with none, so its first step, given
    back, was open to every drafter in the city, and every drafter saw the plan and its files. A
    drafter can name only their own unit, so an empty one is theirs; the office's stays empty."""
    from engine.commands import Member
    from engine.visibility import may_see_plan
    from web.i18n import split
    plan = Plan(city)  # zhang, 市财政局, no data
    assert plan.variables["leadUnit"] == LEAD_UNIT
    task = city.unclaim(plan.task("Task_RegisterPlan")["id"], actor="zhang")
    assert (task["status"], task["candidate_unit"]) == ("open", LEAD_UNIT)
    assert task["id"] not in claimable(city, "luo") and task["id"] in claimable(city, "wang")
    luo, wang = Member("luo", "罗敏", ["drafter"], "市科技局"), Member("wang", "王", ["drafter"], LEAD_UNIT)
    with city.db.reader() as s:
        assert not may_see_plan(s, luo, plan.id) and may_see_plan(s, wang, plan.id)
    office_plan = Plan(city, starter="chen")
    assert not office_plan.variables.get("leadUnit")
    # a drafter of no unit would start a plan of no unit: refused, saying who can mend it
    city.add_user("ma", "马丽", groups=["drafter"])
    with pytest.raises(Forbidden, match="您未设所属单位，不能发起「改革方案全流程」：请改革办在用户管理中为您设置单位"):
        Plan(city, starter="ma")
    # the refusal of another unit reads in one language at a time (Chinese names quoted in the English)
    with pytest.raises(Forbidden) as refused:
        Plan(city, data={"leadUnit": "市科技局"})
    zh, en = split(refused.value.message)
    assert en == "you may start this process only for your own unit, “市财政局”; leadUnit names “市科技局”: a member of that unit starts it"
    assert zh.startswith("您只能为本单位（市财政局）发起")


def test_a_lead_unit_nobody_works_in_leaves_the_step_with_the_initiator(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT}, starter="chen")
    plan.do("Task_RegisterPlan", leadUnit="市外事办")
    research = plan.task("Task_Research")
    assert (research["status"], research["assignee"]) == ("claimed", "chen")


def test_a_drafter_moved_to_another_unit_gives_its_steps_back_to_the_unit_they_left(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    [register] = plan.refresh()["tasks"]
    moved = city.update_user("zhang", unit="市科技局", actor="chen")
    assert ([t["id"] for t in moved["returned"]], moved["to_assign"], moved["holding"]) == ([register["id"]], [], 0)
    assert register["id"] in claimable(city, "wang") and register["id"] not in claimable(city, "zhang")
    [event] = [e for e in audit_payloads(city, plan.id, "task_unclaimed")]
    assert (event["old"], event["reason"]) == ({"assignee": "zhang"}, "unit_changed")
    # the plan's next step, `${initiator}`, is the lead unit's too
    city.claim(register["id"], actor="wang")
    plan.do("Task_RegisterPlan", leadUnit=LEAD_UNIT)
    research = plan.task("Task_Research")
    assert (research["status"], research["assignee"]) == ("open", None)
    assert research["id"] in claimable(city, "wang")


def test_a_drafter_moved_out_of_a_unit_with_nobody_else_keeps_its_step_and_the_office_is_told(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    [register] = plan.refresh()["tasks"]
    city.deactivate_user("wang", actor="chen")
    result = CliRunner().invoke(main, ["--db", city.db.url, "users", "update", "zhang", "--unit", "市科技局", "--as", "chen"])
    assert result.exit_code == 0, result.output
    assert f"{LEAD_UNIT}无其他在岗人员可接，仍由其办理" in result.stdout
    assert f"reformflow assign {register['id']} --to 用户名 --as chen --reassign" in result.stdout
    assert plan.task("Task_RegisterPlan")["assignee"] == "zhang"
    # a name or group change gives nothing back
    assert "returned" not in city.update_user("zhang", display_name="张伟伟", actor="chen")


def test_a_lead_user_the_office_names_keeps_the_steps_whatever_their_unit(city):
    """The office starts an implementation for 市财政局 and names luo (市科技局) to act for it: a
    deliberate choice, kept (luo is a candidate user of the lead unit's steps), where a plan's
    own `${initiator}` working elsewhere would give the step back to the unit's drafters."""
    from .test_implementation import BASE
    plan = city.start("implementation", actor="chen", title="深化财政预算管理制度改革方案",
                      data={**BASE, "leadUnit": LEAD_UNIT, "leadUser": "luo"})
    [step] = plan["tasks"]
    assert (step["element_id"], step["status"], step["assignee"], step["candidate_unit"]) == (
        "Task_AssignResponsibility", "claimed", "luo", LEAD_UNIT)
    city.unclaim(step["id"], actor="luo")  # and given back, luo may still take it, as may 市财政局's drafters
    assert step["id"] in claimable(city, "luo") and step["id"] in claimable(city, "wang")


def test_the_task_page_offers_a_drafter_their_own_unit_as_the_lead_unit(demo_engine):
    """Started without a lead unit, 确认方案任务信息 opens with the drafter's unit filled in, the
    only one they may set; the reform office's page leaves it for them to type."""
    import re as regex

    from .web_helper import signed_in_client
    for starter, shown in (("zhang", "市财政局"), ("chen", "")):
        [register] = demo_engine.start("reform_plan", actor=starter, title="深化某项改革方案", data={})["tasks"]
        page = signed_in_client(demo_engine, starter).get(f"/tasks/{register['id']}").get_data(as_text=True)
        assert regex.search(r'<textarea id="f-leadUnit" name="leadUnit"[^>]*>([^<]*)</textarea>', page)[1] == shown
