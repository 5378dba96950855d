"""Which instance of a multi-instance activity a task belongs to (human_tasks.subject, shown as
编审单位报告（市财政局）): named by the activity's `instanceLabel` property, or by a plain element
variable; checked when the diagram is deployed. The round of reports as the reform office sees
it is in test_work_report."""
from __future__ import annotations

from .conftest import FIXTURES
from .plan_helper import audit_payloads
from .test_checks import _mi, found

PARALLEL = FIXTURES / "corpus" / "multi_instance_parallel.bpmn"
LABEL = '<camunda:properties><camunda:property name="instanceLabel" value="${department.name}" /></camunda:properties>'


def _deploy(engine, labelled: bool) -> None:
    xml = PARALLEL.read_text(encoding="utf-8")
    if labelled:  # each department a record {"name", "group"}, named by its name
        assert xml.count("<bpmn:extensionElements>") == 1
        xml = xml.replace("<bpmn:extensionElements>", "<bpmn:extensionElements>" + LABEL).replace(
            'camunda:candidateGroups="${department}"', 'camunda:candidateGroups="${department.group}"')
    engine.deploy([(PARALLEL.name, xml.encode("utf-8"))])


def _subjects(engine, plan_id: int) -> dict[str, str | None]:
    return {t["candidate_groups"][0]: t["subject"] for t in engine.instance(plan_id)["tasks"]}


def test_a_plain_element_variable_names_each_instance_and_the_step_after_none(engine, people):
    _deploy(engine, labelled=False)
    plan = engine.start("corpus_multi_instance_parallel", actor="zhang", data={"departments": ["legal", "risk"]})
    assert _subjects(engine, plan["id"]) == {"legal": "legal", "risk": "risk"}
    for task, who in zip(sorted(plan["tasks"], key=lambda t: t["candidate_groups"]), ("li", "zhou")):
        engine.claim(task["id"], actor=who)
        engine.complete(task["id"], actor=who, data={"opinion": "同意"})
    assert _subjects(engine, plan["id"]) == {"reform_office": None}  # 汇总意见: no instance of anything


def test_the_diagram_names_each_instance_and_an_item_without_the_field_names_none(engine, people):
    _deploy(engine, labelled=True)
    plan = engine.start("corpus_multi_instance_parallel", actor="zhang",
                        data={"departments": [{"name": "市司法局", "group": "legal"}, {"group": "risk"}]})
    # the record without a name starts its step all the same, unnamed
    assert _subjects(engine, plan["id"]) == {"legal": "市司法局", "risk": None}
    created = audit_payloads(engine, plan["id"], "task_created")
    assert sorted(e.get("subject") or "" for e in created) == ["", "市司法局"]


def test_an_instance_label_is_one_expression_on_a_multi_instance_activity():
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="d" />'

    def labelled(value: str, with_loop: bool = True) -> bytes:
        return _mi(f'<bpmn:extensionElements><camunda:properties><camunda:property name="instanceLabel" '
                   f'value="{value}" /></camunda:properties></bpmn:extensionElements>{loop if with_loop else ""}')
    assert found(labelled("${d.name}")) == []
    assert found(labelled("d.name")) == [("multi-instance", "Task_A")]  # text, the same for every instance
    assert found(labelled("${d.name")) == [("multi-instance", "Task_A")]
    assert found(labelled("${__import__('os')}")) == [("multi-instance", "Task_A")]
    assert found(labelled("${d.name}", with_loop=False)) == [("multi-instance", "Task_A")]  # a warning: ignored
