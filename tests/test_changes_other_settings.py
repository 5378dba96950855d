"""Settings of a step that `changes` has no word for (another platform's, such as Camunda 8's
zeebe:, or listeners) are said by their elements' names and attributes, not dumped as XML with
every namespace declaration."""
from __future__ import annotations

import io
import re

from engine.diagram_changes import compare

from .conftest import ROOT
from .web_helper import signed_in_client

FILING = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8")
PROPERTIES_END = "        </camunda:properties>\n"  # the first is Task_FileDocument's
ZEEBE = FILING.replace('xmlns:camunda=', 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda=', 1).replace(
    PROPERTIES_END,
    PROPERTIES_END + '        <zeebe:assignmentDefinition candidateGroups="legal_experts" />\n'
    '        <zeebe:formDefinition formId="consult-form" />\n'
    '        <camunda:executionListener event="start">\n'
    '          <camunda:script scriptFormat="groovy">x = 1</camunda:script>\n'
    '        </camunda:executionListener>\n', 1)


def test_other_settings_are_said_by_name_and_attributes():
    assert ZEEBE.count("<zeebe:") == 2
    [change] = compare(FILING, ZEEBE, "filing")["changes"]
    [other] = [d for d in change["details"] if d["aspect"] == "other"]
    assert (other["label"], other["old"]) == ("其他设置", None)
    assert other["new"] == ('zeebe:assignmentDefinition candidateGroups="legal_experts"; '
                            'zeebe:formDefinition formId="consult-form"; '
                            'camunda:executionListener event="start" (camunda:script scriptFormat="groovy"：x = 1)')


def test_the_check_page_shows_them_without_namespace_declarations(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", content_type="multipart/form-data", data={
        "action": "check", "files": [(io.BytesIO(ZEEBE.encode()), "filing.bpmn")]}).get_data(as_text=True)
    row = re.search(r'<tr class="changed" data-element="Task_FileDocument".*?</tr>', page, re.S).group(0)
    assert "zeebe:assignmentDefinition candidateGroups=&#34;legal_experts&#34;" in row
    assert "xmlns" not in row and "&lt;" not in row
