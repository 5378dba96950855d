"""A user task is called 用户任务, as Chinese BPMN usage calls it: 人工任务 (手工任务) is a manual
task, which check refuses. The word is the same in `reformflow changes`, the pages' "what
changed" and the 流程图's list of steps."""
from __future__ import annotations

import re

from engine.diagram_changes import compare

from .conftest import ROOT
from .web_helper import signed_in_client

FILING = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8")


def test_a_changed_user_task_is_said_to_be_a_user_task():
    renamed = FILING.replace('name="报送备案" camunda:assignee', 'name="报送备案材料" camunda:assignee', 1)
    [change] = compare(FILING, renamed, "filing")["changes"]
    assert (change["type_name"], change["type_name_en"]) == ("用户任务", "user task")


def test_the_steps_of_a_diagram_page_call_a_user_task_a_user_task(demo_engine):
    page = signed_in_client(demo_engine, "chen").get("/definitions/filing/v1/diagram").get_data(as_text=True)
    row = re.search(r'<tr data-element-id="Task_FileDocument".*?</tr>', page, re.S).group(0)
    assert "用户任务" in row and "人工任务" not in page
