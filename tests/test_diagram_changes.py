"""What changed in a process between two diagrams (engine/diagram_changes.py), as an analyst and
the reform office read a change before and after deploying it: on the command line (`reformflow
changes`) and in the engine, against the library in bpmn/. The pages are in tests/test_web_analyst.py."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.demo import library_files
from engine.diagram_changes import against_deployed, between_versions, compare
from engine.errors import Invalid, NotFound

from .conftest import ROOT

FILING = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8")


def _edited(*pairs: tuple[str, str]) -> str:
    text = FILING
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _by_id(result: dict) -> dict:
    return {c["element_id"]: c for c in result["changes"]}


def _details(change: dict) -> dict:
    return {d["aspect"]: (d["old"], d["new"]) for d in change["details"]}


def test_a_step_changed_in_what_a_person_does_and_sees():
    new = _edited(
        ('name="报送备案" camunda:assignee="${initiator}" camunda:candidateGroups="drafter"',
         'name="报送备案材料" camunda:assignee="${initiator}" camunda:candidateGroups="drafter,reform_office"'),
        ("自印发之日起一个月内（试点方案一周内）向改革办报送备案", "自印发之日起30日内（试点方案一周内）向改革办报送备案"),
        # 报送备案's field (备案审查 shows it read-only under the same label)
        ('<camunda:formField id="filingMaterials" label="报送的备案材料" type="string">\n'
         '              <camunda:validation>\n                <camunda:constraint name="required" />',
         '<camunda:formField id="contactPhone" label="联系电话" type="string" />\n'
         '          <camunda:formField id="filingMaterials" label="报送的备案材料清单" type="string">\n'
         '              <camunda:validation>\n                <camunda:constraint name="required" />'),
        ('<camunda:value id="notice" name="予以通报" />', '<camunda:value id="notice" name="通报批评" />'),
    )
    changes = _by_id(compare(FILING, new, "filing"))
    task = changes["Task_FileDocument"]
    assert (task["change"], task["type_name"], task["name"]) == ("changed", "用户任务", "报送备案材料")
    details = _details(task)
    assert details["name"] == ("报送备案", "报送备案材料")
    assert details["camunda:candidateGroups"] == ("drafter", "drafter,reform_office")
    assert details["documentation"][1].startswith("自印发之日起30日内")
    assert details["form:contactPhone"] == (None, "label=联系电话; type=string")
    assert details["form:filingMaterials"] == ("报送的备案材料", "报送的备案材料清单")
    said = {d["aspect"]: d["label"] for d in task["details"]}
    assert said["form:contactPhone"] == "新增表单字段 contactPhone（联系电话）"
    assert said["form:filingMaterials"] == "表单字段 filingMaterials（报送的备案材料清单）的标签"
    assert _details(changes["Task_PublicNotice"])["form:noticeDecision"] == (
        "notice=予以通报, filed_in_time=已在限期内报送，不予通报", "notice=通报批评, filed_in_time=已在限期内报送，不予通报")
    assert set(changes) == {"Task_FileDocument", "Task_PublicNotice"}  # nothing else is said to have changed


def test_flows_conditions_timers_and_lanes():
    new = _edited(
        ("${filingComplete}</bpmn:conditionExpression>", "${filingComplete == true}</bpmn:conditionExpression>"),
        ("${pilot ? periodEnd(addDays(issueDate, pilotFilingDays)) : periodEnd(addMonths(issueDate, filingMonths))}"
         "</bpmn:timeDate>",
         "${pilot ? periodEnd(addDays(issueDate, pilotFilingDays)) : periodEnd(addDays(issueDate, 30))}</bpmn:timeDate>"),
        ('        <bpmn:flowNodeRef>Task_FileDocument</bpmn:flowNodeRef>\n', ''),
    )
    changes = _by_id(compare(FILING, new, "filing"))
    assert _details(changes["Flow_FilingComplete"])["condition"] == ("${filingComplete}", "${filingComplete == true}")
    [overdue] = [c for c in changes.values() if c["element_type"] == "boundaryEvent"]
    old_timer, new_timer = _details(overdue)["events"]
    assert "addMonths(issueDate, filingMonths)" in old_timer and "addDays(issueDate, 30)" in new_timer
    lane = _details(changes["Lane_Drafter"])["members"]
    assert "Task_FileDocument" in lane[0] and "Task_FileDocument" not in lane[1]


def test_steps_added_and_removed_are_named_by_id():
    new = _edited(
        ('<bpmn:sequenceFlow id="Flow_FilingComplete" name="齐全"', '<bpmn:sequenceFlow id="Flow_FilingDone" name="齐全"'),
    )
    changes = _by_id(compare(FILING, new, "filing"))
    assert changes["Flow_FilingDone"]["change"] == "added"
    assert _details(changes["Flow_FilingDone"])["targetRef"] == (None, "Event_FilingRegistered")
    assert changes["Flow_FilingComplete"]["change"] == "removed"
    assert changes["Flow_FilingComplete"]["name"] == "齐全"


def test_the_layout_alone_is_said_to_change_nothing():
    new = FILING.replace('<dc:Bounds x="', '<dc:Bounds x="1', 3)
    assert new != FILING
    result = compare(FILING, new, "filing")
    assert result["changes"] == [] and result["layout_only"]


def test_every_diagram_of_the_library_is_unchanged_against_itself():
    for name, data in library_files():
        for key in _keys(data):
            result = compare(data, data, key)
            assert result["changes"] == [], (name, key)


def _keys(data: bytes) -> list[str]:
    from engine.diagram_changes import process_keys
    from engine.xmlsafe import parse_bpmn_bytes
    return process_keys(parse_bpmn_bytes(data, "x"))


def test_a_diagram_is_read_as_untrusted_input():
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><bpmn:definitions/>'
    with pytest.raises(Invalid, match="new.bpmn"):
        compare(FILING, hostile, "filing", new_file="new.bpmn")
    with pytest.raises(Invalid, match="没有标识为 nothing 的流程"):
        compare(FILING, FILING, "nothing")


def test_against_the_deployed_library_and_between_versions(engine, people):
    engine.deploy(library_files(), actor="chen")
    changed = _edited(('name="报送备案" camunda:assignee', 'name="报送备案材料" camunda:assignee'))
    files = [("filing.bpmn", changed.encode()), ("adjustment.bpmn", (ROOT / "bpmn" / "adjustment.bpmn").read_bytes()),
             ("new.bpmn", FILING.replace('id="filing"', 'id="filing_two"').encode())]
    with engine.db.reader() as s:
        found = {p["key"]: p for p in against_deployed(s, files)}
    assert found["filing"]["old_version"] == 1 and [c["element_id"] for c in found["filing"]["changes"]] == ["Task_FileDocument"]
    assert found["adjustment"].get("unchanged") and found["filing_two"].get("new_process")

    engine.deploy([("filing.bpmn", changed.encode())], actor="chen")
    with engine.db.reader() as s:
        v2 = between_versions(s, "filing", 2)
        assert (v2["old_version"], v2["new_version"]) == (1, 2)
        assert _details(v2["changes"][0])["name"] == ("报送备案", "报送备案材料")
        with pytest.raises(NotFound):
            between_versions(s, "filing", 3)
        with pytest.raises(Invalid, match="第 1 版是它的第一个版本"):
            between_versions(s, "filing", 1)


def test_reformflow_changes_on_the_command_line(tmp_path, sqlite_engine):
    engine = sqlite_engine
    url = str(engine.db.url)
    runner = CliRunner()
    assert runner.invoke(main, ["--db", url, "deploy", str(ROOT / "bpmn" / "filing.bpmn")]).exit_code == 0
    changed = tmp_path / "filing.bpmn"
    changed.write_text(_edited(('name="报送备案" camunda:assignee', 'name="报送备案材料" camunda:assignee')), encoding="utf-8")
    shown = runner.invoke(main, ["--db", url, "changes", str(changed)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"filing（v1 → {changed}）：1 处变化 (1 change(s))"
    assert lines[1] == "  修改 (changed) 用户任务 (user task) Task_FileDocument 报送备案材料"
    assert lines[2] == "    名称 (name)：报送备案 → 报送备案材料"

    assert runner.invoke(main, ["--db", url, "deploy", str(changed)]).exit_code == 0
    as_json = json.loads(runner.invoke(main, ["--db", url, "changes", "--process", "filing", "--version", "2", "--json"]).stdout)
    assert as_json["processes"][0]["changes"][0]["details"][0]["new"] == "报送备案材料"
    refused = runner.invoke(main, ["--db", url, "changes", "--process", "filing"])
    assert refused.exit_code != 0 and "请给出 BPMN 文件，或 --process 与 --version" in refused.output
