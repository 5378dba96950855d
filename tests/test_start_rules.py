"""Who may start a plan, what it starts with, who may be assigned, and reminders — on SQLite and
PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, Invalid
from engine.queries import list_tasks
from models import AuditEvent

from .conftest import FIXTURES, read
from .test_modeler_toolchain import requires_modeler

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"
CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'


def _with_process_settings(extra_attributes: str = "", properties: dict | None = None) -> tuple[str, bytes]:
    """mini_approval as an analyst would change it in Modeler: process attributes and
    "Extension properties" on the process."""
    xml = MINI.read_text(encoding="utf-8")
    head = '<bpmn:process id="mini_approval" name="简易审批" isExecutable="true"'
    assert head in xml
    props = ""
    if properties:
        props = ("<bpmn:extensionElements><camunda:properties>"
                 + "".join(f'<camunda:property name="{k}" value="{v}" />' for k, v in properties.items())
                 + "</camunda:properties></bpmn:extensionElements>")
    xml = xml.replace(head + ">", f"{head} {extra_attributes}>{props}")
    return ("mini_approval.bpmn", xml.encode())


def test_process_properties_become_typed_variables_the_starter_cannot_override(engine, people):
    engine.deploy([_with_process_settings(properties={"mediumRiskPolicy": "adjust", "reviewDays": "15",
                                                      "strict": "true"})])
    plan = engine.start("mini_approval", actor="zhang", title="甲")
    variables = engine.instance(plan["id"])["variables"]
    assert variables["mediumRiskPolicy"] == "adjust"
    assert variables["reviewDays"] == 15 and variables["strict"] is True
    with pytest.raises(Invalid) as err:
        engine.start("mini_approval", actor="zhang", title="乙", data={"mediumRiskPolicy": "proceed"})
    assert "mediumRiskPolicy" in err.value.message


def test_only_candidate_starters_may_start(engine, people):
    engine.deploy([_with_process_settings('camunda:candidateStarterGroups="drafter, reform_office" '
                                          'camunda:candidateStarterUsers="li"')])
    assert engine.start("mini_approval", actor="zhang", title="起草人发起")["status"] == "running"
    assert engine.start("mini_approval", actor="li", title="指定用户发起")["status"] == "running"
    with pytest.raises(Forbidden) as err:
        engine.start("mini_approval", actor="zhou", title="风险评估人员发起")
    assert "drafter" in err.value.message


def test_a_title_or_business_key_longer_than_a_list_can_show_is_refused_and_nothing_starts(engine, people):
    engine.deploy([read(MINI)])
    with pytest.raises(Invalid, match="方案名称最多 200 个字，现有 201 个"):
        engine.start("mini_approval", actor="zhang", title="改" * 201)
    with pytest.raises(Invalid, match="业务编号最多 100 个字符"):
        engine.start("mini_approval", actor="zhang", title="方案", business_key="K" * 101)
    with pytest.raises(Invalid, match="方案名称不能为空"):
        engine.start("mini_approval", actor="zhang", title="   ")
    with engine.db.reader() as s:
        assert not s.execute(select(AuditEvent.seq).where(AuditEvent.event_type == "instance_started")).first()
    assert engine.start("mini_approval", actor="zhang", title="改" * 200, business_key="K" * 100)["title"] == "改" * 200


def test_start_data_is_typed_like_the_form_fields_of_the_same_name(engine, people):
    engine.deploy([read(MINI)])
    with pytest.raises(Invalid) as err:
        engine.start("mini_approval", actor="zhang", data={"days": "abc"})
    assert [d["field"] for d in err.value.details] == ["days"]
    plan = engine.start("mini_approval", actor="zhang", data={"days": "30"})
    assert engine.instance(plan["id"])["variables"]["days"] == 30


def test_initiator_is_set_even_when_the_start_event_declares_none(engine, people):
    xml = MINI.read_text(encoding="utf-8").replace(' camunda:initiator="initiator"', "")
    engine.deploy([("mini_approval.bpmn", xml.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    assert engine.instance(plan["id"])["variables"]["initiator"] == "zhang"
    assert [t["assignee"] for t in plan["tasks"]] == ["zhang"]  # camunda:assignee="${initiator}"


def test_assign_only_to_a_candidate(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "parallel_review.bpmn")])
    plan = engine.start("parallel_review", actor="zhang")
    task = plan["tasks"][0]
    candidates = task["candidate_groups"]
    outsider = next(u for role, u in people.items() if role not in candidates and role != "drafter2"
                    and role != "reform_office")
    with pytest.raises(Forbidden):
        engine.assign(task["id"], to=outsider, actor="chen")
    insider = people[candidates[0]]
    assert engine.assign(task["id"], to=insider, actor="chen")["assignee"] == insider


@requires_modeler
def test_deploy_runs_the_modeler_lint_and_refuses_its_errors(engine, people):
    typo = MINI.read_text(encoding="utf-8").replace('camunda:dueDate="P7D"', 'camunda:dueDat="P7D"')
    assert typo != MINI.read_text(encoding="utf-8")
    with pytest.raises(Invalid) as err:
        engine.deploy([("mini_approval.bpmn", typo.encode())])
    assert any(d["rule"].startswith("modeler/") and d["element_id"] == "Task_Draft" for d in err.value.details)
    assert engine.deploy([read(MINI)])[0]["modeler_lint"] == "ran"


def test_without_node_deploy_runs_the_python_checks_and_says_the_lint_was_skipped(engine, people, monkeypatch):
    from engine import modeler
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "Node.js not found on PATH"))
    [created] = engine.deploy([read(MINI)])
    assert created["modeler_lint"].startswith("skipped: mini_approval.bpmn not linted: Node.js not found on PATH; ")
    evil = MINI.read_text(encoding="utf-8").replace('camunda:dueDate="P7D"', 'camunda:dueDate="${__import__(1)}"')
    with pytest.raises(Invalid) as err:
        engine.deploy([("mini_approval.bpmn", evil.encode())])
    assert [d["element_id"] for d in err.value.details] == ["Task_Draft"]


def test_a_non_interrupting_timer_on_a_task_reminds_whoever_holds_it(engine, people, at):
    engine.deploy([read(FIXTURES / "diagrams" / "deadline_workdays.bpmn")])
    with at("2025-09-30T15:00:00"):
        plan = engine.start("deadline_workdays", actor="zhang", data={"days": 3})
    [task] = plan["tasks"]
    assert task["reminded_at"] is None
    with at("2025-10-12T00:00:01"):
        assert len(engine.fire_due_timers()) == 1
    with engine.db.reader() as s:
        [row] = [t for t in list_tasks(s, "zhang", "mine") if t["id"] == task["id"]]
        [event] = s.execute(select(AuditEvent).where(AuditEvent.event_type == "task_reminded")).scalars().all()
    assert row["reminded_at"] == "2025-10-11T16:00:01+00:00"
    assert event.task_id == task["id"] and json.loads(event.payload)["to"] == ["zhang"]


def test_a_called_process_is_started_on_its_own_only_by_the_office_or_its_named_starters(engine, people):
    """A drafter starting legality_review (or risk_assessment, deliberation, filing) through the
    API opened steps in the legal office's inbox for a plan that was no reform plan."""
    from .plan_helper import deploy_library
    deploy_library(engine)
    for key, caller in (("legality_review", "改革方案"), ("risk_assessment", "改革方案"), ("filing", "改革方案")):
        with pytest.raises(Forbidden) as refused:
            engine.start(key, actor="zhang", data={"exploratory": False, "pilot": False, "issueDate": "2026-11-02"})
        assert "不单独发起；单独发起限改革办" in refused.value.message and caller in refused.value.message
    with engine.db.reader() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.event_type == "instance_started")).first() is None
    plan = engine.start("legality_review", actor="chen", data={"exploratory": False})  # the office may
    assert plan["tasks"][0]["element_id"] == "Task_CheckMaterials"
    assert engine.start("reform_plan", actor="zhang", title="起草", data={})["id"]  # called by nobody


def test_start_data_may_not_give_what_a_script_of_the_process_sets(engine, people):
    """reform_plan's script sets `rejectedOn` when a plan is dropped, and the ledger reads it as
    the day it was: a starter giving it had a running plan shown as dropped."""
    from .plan_helper import deploy_library
    deploy_library(engine)
    with pytest.raises(Invalid, match="rejectedOn 由流程中的脚本设定，启动时不能指定"):
        engine.start("reform_plan", actor="zhang", title="预置", data={"rejectedOn": "2026-01-01"})
    with engine.db.reader() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.event_type == "instance_started")).first() is None


def test_a_reform_plan_is_started_by_a_drafter_or_the_office_only(engine, people):
    """reform_plan named no starters: a legal reviewer or a leader could start a plan and find
    its drafting steps in their own inbox. The library names the lead unit's drafters and the
    reform office, which starts plans on a lead unit's behalf."""
    from .plan_helper import deploy_library
    deploy_library(engine)
    for outsider in ("li", "zhou", "liu"):
        with pytest.raises(Forbidden) as refused:
            engine.start("reform_plan", actor=outsider, title="越权发起", data={})
        assert "drafter" in refused.value.message and "reform_office" in refused.value.message
    with engine.db.reader() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.event_type == "instance_started")).first() is None
    assert engine.start("reform_plan", actor="zhang", title="起草人发起", data={})["status"] == "running"
    assert engine.start("reform_plan", actor="chen", title="改革办代为发起", data={})["status"] == "running"
