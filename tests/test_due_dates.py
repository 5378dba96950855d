"""Due dates computed from variables: each instance of a multi-instance task keeps its own
item, and an open task's due date is not computed again unless a value it names changes.
(A due date following a changed value is shown in the filing scenarios of test_reform_plan.)"""
from __future__ import annotations

from .conftest import FIXTURES
from .plan_helper import audit_payloads

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
