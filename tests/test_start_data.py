"""What start data may give: the fields of the starter's own steps (确认方案任务信息's category,
its routing switches) and what the process reads that no step sets (a filing started alone:
its issue date), never what a later step's handler enters. Given at start, the office's new
filing deadline made an overdue filing show green, and a standing committee's "reject" ended an
approved ordinary plan as rejected by a meeting that never sat."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from engine.errors import Invalid
from models import ProcessDefinition, ProcessInstance

from .plan_helper import deploy_library


@pytest.mark.parametrize("name, value, step", [("newDeadline", "2027-06-30", "逾期未备案处理"),
                                               ("standingCommitteeDecision", "reject", "常委会议审定"),
                                               ("legalityResult", "pass", "合法合规性审查")])
def test_start_data_may_not_give_what_a_later_step_s_handler_enters(engine, people, name, value, step):
    deploy_library(engine)
    with pytest.raises(Invalid) as refused:
        engine.start("reform_plan", actor="zhang", data={"category": "major", name: value})
    assert str(refused.value).startswith(f"{name}（「{step}」） 由后面环节的办理人填写，启动时不能指定")


def test_the_starter_s_own_fields_and_what_no_step_sets_are_still_given(engine, people):
    deploy_library(engine)
    plan = engine.start("reform_plan", actor="zhang", data={"category": "major", "touchesPublicInterest": True})
    assert engine.instance(plan["id"])["variables"]["touchesPublicInterest"] is True
    filing = engine.start("filing", actor="chen", data={"issueDate": "2026-01-31", "pilot": False})
    assert engine.instance(filing["id"])["variables"]["issueDate"] == "2026-01-31"


def test_a_name_the_process_never_reads_is_refused_with_the_nearest_known_one(engine, people):
    deploy_library(engine)
    with pytest.raises(Invalid) as refused:
        engine.start("reform_plan", actor="zhang", data={"leadUnti": "市财政局", "riskLevle": "high", "touchesPublicInterest": True})
    assert str(refused.value).startswith("启动数据中的 leadUnti（是否应为 leadUnit？）；riskLevle（是否应为 riskLevel？） "
                                         "不是「改革方案全流程」的表单字段")
    with pytest.raises(Invalid, match=r"^启动数据中的 colour 不是「改革方案全流程」的表单字段"):  # nothing close: no guess
        engine.start("reform_plan", actor="zhang", data={"colour": "red"})
    with engine.db.reader() as s:
        assert s.execute(select(func.count()).select_from(ProcessInstance)).scalar_one() == 0


def test_the_lead_unit_and_responsible_person_are_known_to_every_process(engine, people):
    """The ledger, the statistics and who may see a plan read them of any plan, whether or not
    its diagram does: filing.bpmn, started on its own, reads leadUnit (its steps' candidate unit) but
    never responsiblePerson."""
    deploy_library(engine)
    data = {"issueDate": "2026-01-31", "pilot": False, "leadUnit": "市财政局", "responsiblePerson": "张伟"}
    filing = engine.start("filing", actor="chen", data=data)
    assert data.items() <= engine.instance(filing["id"])["variables"].items()


def test_a_version_deployed_before_the_names_were_kept_is_checked_from_its_diagram(engine, people):
    deploy_library(engine)
    with engine.db.engine.begin() as conn:  # as an older release stored it: no "start_names"
        for row in conn.execute(select(ProcessDefinition.id, ProcessDefinition.start_config)).all():
            config = json.loads(row.start_config)
            del config["start_names"]
            conn.execute(update(ProcessDefinition).where(ProcessDefinition.id == row.id).values(start_config=json.dumps(config)))
    with pytest.raises(Invalid, match=r"^启动数据中的 leadUnti（是否应为 leadUnit？）"):
        engine.start("reform_plan", actor="zhang", data={"leadUnti": "市财政局"})
    plan = engine.start("reform_plan", actor="zhang", data={"leadUnit": "市财政局", "touchesPublicInterest": True})
    assert engine.instance(plan["id"])["variables"]["touchesPublicInterest"] is True
