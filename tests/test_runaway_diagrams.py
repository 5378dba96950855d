"""Diagrams that deploy but went wrong when they ran, from a review of hostile diagrams (their
values come from ${...} expressions, or their shape, which the deploy check cannot judge): each
is now refused when it runs, naming the file and element, with nothing changed. Before, each
ended in a traceback, or a run that took the database's write lock for minutes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import scripting
from engine.errors import Invalid
from engine.runtime import task_priority
from models import AuditEvent, ProcessInstance

from .conftest import FIXTURES

RUNAWAY = FIXTURES / "runaway"


def _refused_start(engine, file_name: str) -> str:
    engine.deploy([(file_name, (RUNAWAY / file_name).read_bytes())])
    with engine.db.reader() as s:
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    with pytest.raises(Invalid) as refused:
        engine.start(f"qa_{file_name.removesuffix('.bpmn')}", actor="chen")
    with engine.db.reader() as s:  # nothing changed: no plan, no event
        assert s.execute(select(func.count()).select_from(ProcessInstance)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events
    assert file_name in refused.value.message and "未做任何更改" in refused.value.message
    return refused.value.message


@pytest.mark.parametrize("file_name, said", [
    ("mi_coll_undefined.bpmn", "element Task_A (办理): 值无效或超出范围：集合 nothing 没有值：多实例须有一个列表"),
    ("mi_coll_int.bpmn", "集合 items 须为列表，实为 int '5000'"),
    ("mi_coll_dict.bpmn", "集合 items 须为列表，实为 dict"),  # Camunda takes a collection, not a map
    ("t_prio_str.bpmn", "element Task_A (办理): 值无效或超出范围：优先级须为 -2147483648 到 2147483647 之间的整数，实为 'abc'"),
    # a split whose branch leads back before it: stopped after the automatic steps' limit (it used to
    # run into Python's recursion limit in a join's walk up the tree, engine/deep_trees.py)
    ("st_forkbomb2.bpmn", "流程连续自动执行了 1000 个步骤仍未停在用户任务或定时器上"),
    # no condition holds and no default flow: the gateway is named (it was not), the sentence once
    # and the reason in the Chinese half too, which is all a page in Chinese shows
    ("st_gw_nomatch.bpmn", "element Gw_1 (判断): 流程运行出错（No conditions satisfied for Gw_1），未做任何更改，请更正数据或"
                           "流程图后重试 (No conditions satisfied for Gw_1. Nothing was changed"),
])
def test_a_diagram_that_runs_away_is_refused_by_name(engine, people, file_name, said):
    assert said in _refused_start(engine, file_name)


def test_multi_instance_inside_multi_instance_is_bounded_by_the_plan_size(engine, people, monkeypatch):
    """30 x 30 instances: within the limit it runs; with a limit of 500 tasks a plan it is refused
    (1000 x 1000 ran out of memory after 217 s)."""
    monkeypatch.setattr(scripting, "MAX_PLAN_TASKS", 500)
    message = _refused_start(engine, "mi_nested_small.bpmn")
    assert "超过每个方案 500 个任务的上限（多实例是否套在多实例里？）" in message
    monkeypatch.setattr(scripting, "MAX_PLAN_TASKS", 25_000)
    plan = engine.start("qa_mi_nested_small", actor="chen")
    assert len(plan["tasks"]) == 900


@pytest.mark.parametrize("value, priority", [(None, 50), ("", 50), ("80", 80), (" 7 ", 7), (-3, -3), (2**31 - 1, 2**31 - 1)])
def test_a_priority_is_a_whole_number(value, priority):
    assert task_priority(value) == priority


@pytest.mark.parametrize("value", ["abc", [1], True, 1.5, 2**31, "9" * 5000, "99999999999999999999"])
def test_anything_else_is_not_a_priority(value):
    with pytest.raises(Exception, match="优先级须为"):
        task_priority(value)


def test_a_group_named_twice_by_an_expression_is_a_candidate_once(engine, people):
    """`${'reform_office,reform_office'}` broke the candidate rows' unique key, and the start was
    refused as if someone else had acted at that moment."""
    text = (RUNAWAY / "t_prio_str.bpmn").read_text(encoding="utf-8")
    text = text.replace('camunda:candidateGroups="reform_office" camunda:priority="${&apos;abc&apos;}"',
                        'camunda:candidateGroups="${&apos;reform_office,reform_office&apos;}"')
    assert "reform_office,reform_office" in text
    engine.deploy([("twice.bpmn", text.encode())])
    plan = engine.start("qa_t_prio_str", actor="chen")
    assert [t["candidate_groups"] for t in plan["tasks"]] == [["reform_office"]]
