"""What `reformflow check` says of a whole file (QA analyst findings 8, 9, 10): a file without a
diagram layout gets one error, not one per element; a file saved by bpmn.io rather than Camunda
Modeler (Camunda 7) is named so, with what to do; a `bpmn` parse error names the file once and
says what to do; one missing default flow is said once."""
from __future__ import annotations

import re

from engine.checks import check_files

from .conftest import BPMN
from .test_modeler_toolchain import requires_modeler


def _library(key: str) -> str:
    return (BPMN / f"{key}.bpmn").read_text(encoding="utf-8")


@requires_modeler
def test_a_file_without_any_layout_gets_one_error_for_the_file():
    xml = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", _library("filing"), flags=re.DOTALL)
    assert "BPMNShape" not in xml
    report = check_files([("filing.bpmn", xml.encode())])
    [problem] = [p for p in report.problems if p["rule"] == "modeler/no-bpmndi"]
    elements = len(re.findall(r"<bpmndi:BPMNShape|<bpmndi:BPMNEdge", _library("filing")))
    assert (problem["element_id"], problem["severity"]) == (None, "error")
    assert problem["message"].startswith("此文件没有图形布局（bpmndi:BPMNDiagram），Camunda Modeler 无法显示其中 ")
    assert "请在 Camunda Modeler 中画出流程并保存" in problem["message"]
    assert f"cannot show any of its {elements} elements" in problem["message"]
    # an empty plane is no layout either
    empty = re.sub(r"(<bpmndi:BPMNPlane[^>]*>).*(</bpmndi:BPMNPlane>)", r"\1\2", _library("filing"), flags=re.DOTALL)
    assert len([p for p in check_files([("filing.bpmn", empty.encode())]).problems
                if p["rule"] == "modeler/no-bpmndi"]) == 1


@requires_modeler
def test_one_shape_missing_is_still_named_by_its_element():
    xml = re.sub(r'<bpmndi:BPMNShape id="[^"]*" bpmnElement="Task_CheckFiling".*?</bpmndi:BPMNShape>', "",
                 _library("filing"), count=1, flags=re.DOTALL)
    assert xml != _library("filing")
    missing = [p for p in check_files([("filing.bpmn", xml.encode())]).problems if p["rule"] == "modeler/no-bpmndi"]
    assert [p["element_id"] for p in missing] == ["Task_CheckFiling"]
