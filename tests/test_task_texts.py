"""The text an official reads for a task (its <bpmn:documentation>, shown by `reformflow task N`)
cites documents as an official would (《文件名》第X条) and says local rules in words
(本地规定的期限（默认…）): it names no internal source ("seed 004 §9", "DOMAIN.md …") and no
process property (archiveDays, mediumRiskPolicy, ...). Process-level documentation is for
analysts and may name properties; it is not checked here."""
from __future__ import annotations

import pytest
from lxml import etree

from .conftest import BPMN

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
INTERNAL = ("seed ", "DOMAIN.md", "流程属性")


def property_names(process) -> set[str]:
    """The process's own camunda:properties (Modeler: the process's Extension properties)."""
    return {p.get("name") for p in process.findall("./bpmn:extensionElements/camunda:properties/camunda:property", NS)}


def findings(xml: bytes) -> list[str]:
    """One line per user task whose documentation names an internal source or a property of its process."""
    out = []
    for process in etree.fromstring(xml).findall("bpmn:process", NS):
        names = property_names(process)
        for task in process.iter(f"{{{NS['bpmn']}}}userTask"):
            text = "".join(d.text or "" for d in task.findall("bpmn:documentation", NS))
            hits = [w for w in INTERNAL if w in text] + sorted(n for n in names if n and n in text)
            if hits:
                out.append(f"{process.get('id')}/{task.get('id')}: {', '.join(hits)}")
    return out


DIAGRAMS = sorted(BPMN.glob("*.bpmn"))


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.name for p in DIAGRAMS])
def test_task_texts_cite_documents_not_internal_references(path):
    assert findings(path.read_bytes()) == []


def test_the_library_has_the_tasks_and_properties_the_check_reads():
    """Not vacuous: the check sees every user task, including those inside subprocesses, and the
    local rules of the processes that have them."""
    tasks, names = 0, set()
    for path in DIAGRAMS:
        root = etree.parse(str(path)).getroot()
        tasks += len(list(root.iter(f"{{{NS['bpmn']}}}userTask")))
        for process in root.findall("bpmn:process", NS):
            names |= property_names(process)
    assert tasks > 40
    assert {"archiveDays", "mediumRiskPolicy", "legalReviewDays", "filingSupplementDays", "reminderDays"} <= names


def test_the_check_names_what_it_finds():
    xml = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D">'
           '<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements><camunda:properties>'
           '<camunda:property name="archiveDays" value="30" /></camunda:properties></bpmn:extensionElements>'
           '<bpmn:documentation>archiveDays 由分析人员设定</bpmn:documentation>'
           '<bpmn:userTask id="Task_A"><bpmn:documentation>在 archiveDays 日内移交。依据 seed 004 §9。</bpmn:documentation></bpmn:userTask>'
           '<bpmn:subProcess id="Sub"><bpmn:userTask id="Task_B"><bpmn:documentation>依据 DOMAIN.md「备案」。</bpmn:documentation>'
           '</bpmn:userTask></bpmn:subProcess>'
           '<bpmn:userTask id="Task_C"><bpmn:documentation>在本地规定的期限（默认自决策之日起30日）内移交。'
           '依据《关于提高改革方案质量推进改革举措落地的意见》第9条。</bpmn:documentation></bpmn:userTask>'
           '</bpmn:process></bpmn:definitions>').encode()
    assert findings(xml) == ["p/Task_A: seed , archiveDays", "p/Task_B: DOMAIN.md"]
