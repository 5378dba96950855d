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


BPMN_IO = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="bpmn-js (https://demo.bpmn.io)" '
           'exporterVersion="17.11.1">\n<bpmn:process id="consult" name="咨询" isExecutable="true">\n'
           '<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" name="出具意见"{attributes} />\n'
           '<bpmn:endEvent id="Event_End" />\n<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_A" />\n'
           '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="Event_End" />\n</bpmn:process>\n</bpmn:definitions>\n')


def test_a_file_saved_by_bpmn_io_is_named_so_with_what_to_do():
    report = check_files([("consult.bpmn", BPMN_IO.format(attributes="").encode())], use_modeler=False)
    [said] = [p for p in report.problems if p["rule"] == "unsupported"]
    assert (said["element_id"], said["severity"]) == ("consult", "warning")
    assert said["message"].startswith("此文件不是用 Camunda Modeler（Camunda 7）保存的（由 bpmn-js (https://demo.bpmn.io) "
                                      "17.11.1 保存），没有 camunda 命名空间")
    assert "请在 Camunda Modeler 中按 Camunda 7 打开它" in said["message"]
    assert report.problems[0] is said  # before what follows from it (the user task nobody is assigned)
    # a Camunda 7 file, and a Camunda 8 one (its own rule), are not told so
    library = check_files([("filing.bpmn", _library("filing").encode())], use_modeler=False)
    assert [p for p in library.problems if "不是用 Camunda Modeler" in p["message"]] == []


def test_camunda_attributes_without_the_namespace_say_to_save_in_camunda_modeler():
    xml = BPMN_IO.format(attributes=' camunda:candidateGroups="legal"').encode()
    [problem] = check_files([("consult.bpmn", xml)], use_modeler=False).problems
    assert (problem["rule"], problem["element_id"]) == ("xml", None)
    assert problem["message"].startswith("文件用了 camunda: 属性，却没有声明 camunda 命名空间（Namespace prefix camunda for "
                                         "candidateGroups on userTask is not defined）")
    assert "请在 Camunda Modeler 中打开它并保存，保存时会加上命名空间" in problem["message"]
    assert "重新保存" not in problem["message"] and "consult.bpmn" not in problem["message"]


def _without_default() -> bytes:
    """The library's legality_review with the materials gateway's default flow unmarked (QA's m2)."""
    xml = _library("legality_review")
    gateway = re.search(r'<bpmn:exclusiveGateway id="(\w+)"[^>]* default="(\w+)"', xml)
    assert gateway, "legality_review has a gateway with a default flow"
    return xml.replace(f' default="{gateway.group(2)}"', "", 1).encode(), gateway.group(1), gateway.group(2)


def test_a_parse_error_names_the_file_once_and_says_what_to_do():
    from engine.checks.files import schema_problems
    xml, _, flow = _without_default()
    [problem] = schema_problems([("legality_review.bpmn", xml)])[0]
    assert (problem["rule"], problem["element_id"]) == ("bpmn", flow)
    assert "legality_review.bpmn" not in problem["message"]
    assert problem["message"].startswith(f"元素 {flow}")
    assert f"不符合 BPMN 规范，引擎无法读取。原因（英文）：{problem['message'].split(' (element ')[1].split(': ', 1)[1][:30]}" \
        in problem["message"]
    assert "。请在 Modeler 中改正此元素。 (element " in problem["message"]


@requires_modeler
def test_a_gateway_without_a_default_flow_is_said_once_by_the_rule_that_says_what_to_do():
    """It was three errors: the engine's parse error and the lint's conditional-flows on the flow,
    and the gateway rule's on the gateway."""
    xml, gateway, flow = _without_default()
    report = check_files([(f"{key}.bpmn", _library(key).encode()) for key in ("adjustment", "reform_plan")]
                         + [("legality_review.bpmn", xml)])
    assert [(p["rule"], p["element_id"]) for p in report.errors] == [("gateway", gateway)]
    assert f"无条件的流：{flow}" in report.errors[0]["message"]


def test_deploy_prints_each_error_on_a_line_of_its_own(tmp_path):
    from click.testing import CliRunner

    from engine.cli import main
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", url, "init"]).exit_code == 0
    bad = tmp_path / "filing.bpmn"
    bad.write_text(_library("filing").replace("${", "${＝", 1).replace('isExecutable="true"', 'isExecutable="true" '
                                              'camunda:candidateStarterGroups="a b"', 1), encoding="utf-8")
    checked = runner.invoke(main, ["--db", url, "check", str(bad)])
    lines = [line for line in checked.stdout.splitlines() if ": 错误 error: " in line]
    assert len(lines) >= 2
    deployed = runner.invoke(main, ["--db", url, "deploy", str(bad)])
    assert deployed.exit_code == 3
    said = deployed.stderr.splitlines()
    assert said[0] == (f"reformflow: invalid: 部署被拒绝：图中有 {len(lines)} 个错误，均未部署；改正后可先用 reformflow check "
                       f"检查 (deploy refused: {len(lines)} errors, nothing was deployed; run reformflow check after "
                       "correcting them):")
    assert said[1:] == lines
    refused = runner.invoke(main, ["--db", url, "deploy", str(bad), "--json"])  # JSON as before
    assert refused.exit_code == 3 and '"details"' in refused.stdout
