"""A drafting step belongs to the lead unit's drafters, not to every drafter in the city: a user
task's `candidateUnit` property (${leadUnit}) keeps it, while open for its group, to the members
of that unit — in claim, the claimable inbox, a leaver's hand-back — and the reform office may
still assign it to anyone of the group, on the trail."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.checks import check_processes
from engine.cli import main
from engine.errors import Forbidden
from engine.queries import list_tasks

from .plan_helper import Plan, audit_payloads
from .test_checks import simple
from .test_reform_plan import library  # noqa: F401 - the process library, deployed, with its people

# zhang and wang draft for 市发改委 (tests/conftest.py); luo drafts for another bureau
LEAD_UNIT = "市发改委"


@pytest.fixture
def city(library):  # noqa: F811
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
    leaver and the office is told to assign it."""
    plan = Plan(city, data={"leadUnit": "市外事办"})
    [register] = plan.refresh()["tasks"]
    left = city.deactivate_user("zhang", actor="chen")
    assert (left["returned"], [t["id"] for t in left["to_assign"]]) == ([], [register["id"]])
    assert plan.task("Task_RegisterPlan")["assignee"] == "zhang"


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


def test_giving_back_a_step_nobody_else_of_its_unit_may_claim_says_the_office_must_assign_it(city):
    plan = Plan(city, data={"leadUnit": LEAD_UNIT})
    [register] = plan.refresh()["tasks"]
    city.deactivate_user("wang", actor="chen")  # zhang's only colleague in the unit
    result = CliRunner().invoke(main, ["--db", city.db.url, "unclaim", str(register["id"]), "--as", "zhang"])
    assert result.exit_code == 0, result.output
    assert f"{LEAD_UNIT}无其他在岗人员可认领，须由改革办指派：reformflow assign {register['id']}" in result.stdout
    assert register["id"] not in claimable(city, "luo")
    # with a colleague to claim it, nothing more to say
    city.reactivate_user("wang", actor="chen")
    city.claim(register["id"], actor="zhang")
    result = CliRunner().invoke(main, ["--db", city.db.url, "unclaim", str(register["id"]), "--as", "zhang", "--json"])
    assert result.exit_code == 0 and "to_assign" not in json.loads(result.stdout)
