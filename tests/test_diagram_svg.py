"""The 流程图 drawn from a diagram's DI (engine/diagram_svg.py): every shape and flow of the
library drawn once, names kept as text whatever they hold, Chinese wrapped by characters, a file
without DI said in words, and a plan's states on the elements."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from engine.diagram_svg import NO_DI, ElementState, render, wrap
from engine.errors import Invalid

from .conftest import BPMN, FIXTURES

SVG = "{http://www.w3.org/2000/svg}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"


def _key(xml: str) -> str:
    return etree.fromstring(xml.encode()).find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id")


def _drawn(svg: str, css: str) -> list[str]:
    """The element ids of the groups of class `css` (bpmn-element: shapes; bpmn-flow: edges)."""
    root = etree.fromstring(svg.encode())
    return [g.get("data-element-id") for g in root.iter(f"{SVG}g") if css in g.get("class", "").split()]


# the library, and the corpus of every kind of element the engine runs (annotations, data objects,
# event-based gateways, message, signal, error and escalation events, multi-instance …), each
# file with one diagram plane
CORPUS = [p for p in sorted((FIXTURES / "corpus").glob("*.bpmn"))
          if p.read_text(encoding="utf-8").count("<bpmndi:BPMNPlane") == 1]


@pytest.mark.parametrize("path", sorted(BPMN.glob("*.bpmn")) + CORPUS, ids=lambda p: p.name)
def test_every_shape_and_flow_of_the_library_is_drawn_once(path):
    xml = path.read_text(encoding="utf-8")
    tree = etree.fromstring(xml.encode())
    shapes = [s.get("bpmnElement") for s in tree.iter(f"{BPMNDI}BPMNShape")]
    edges = [e.get("bpmnElement") for e in tree.iter(f"{BPMNDI}BPMNEdge")]
    svg = render(xml, _key(xml))
    assert sorted(_drawn(svg, "bpmn-element")) == sorted(shapes)
    assert sorted(_drawn(svg, "bpmn-flow")) == sorted(edges)
    root = etree.fromstring(svg.encode())
    assert root.get("role") == "img" and root.get("aria-label")
    assert re.fullmatch(r"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+", root.get("viewBox"))
    # its size the Modeler's (1:1), which the page's style sheet may shrink, never enlarge
    assert [root.get("width"), root.get("height")] == root.get("viewBox").split()[2:]
    # every sequence flow ends in the arrowhead defined in the picture itself
    [marker] = root.iter(f"{SVG}marker")
    flows = [g for g in root.iter(f"{SVG}g") if "sequenceFlow" in g.get("class", "").split()]
    assert flows or path.parent != BPMN
    assert all(g.find(f"{SVG}polyline").get("marker-end") == f"url(#{marker.get('id')})" for g in flows)


def test_the_reform_plan_shows_its_lanes_names_and_kinds_of_element():
    svg = render((BPMN / "reform_plan.bpmn").read_text(encoding="utf-8"), "reform_plan")
    root = etree.fromstring(svg.encode())
    texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {"法制机构", "改革办", "专项小组"} <= texts  # lane names, each one line
    by_id = {g.get("data-element-id"): g for g in root.iter(f"{SVG}g") if g.get("data-element-id")}
    assert by_id["CallActivity_LegalityReview"].find(f"{SVG}rect").get("stroke-width") == "4"
    assert by_id["Event_PlanFiled"].find(f"{SVG}circle").get("stroke-width") == "4"  # an end event: thick
    assert by_id["Gateway_SpecialGroupDecision"].find(f"{SVG}polygon") is not None  # a diamond
    assert "userTask" in by_id["Task_DraftPlan"].get("class")


def test_a_name_holding_markup_comes_out_as_text_and_the_svg_parses():
    hostile = '<script>alert(1)</script> & "引号" </svg>'
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    xml = MINI.read_text(encoding="utf-8").replace('name="起草"', f'name="起草{escaped}"')
    assert escaped in xml
    svg = render(xml, "mini_approval")
    root = etree.fromstring(svg.encode())  # well-formed
    assert not [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "script"]
    [draft] = [g for g in root.iter(f"{SVG}g") if g.get("data-element-id") == "Task_Draft"]
    assert draft.findtext(f"{SVG}title") == f"起草{hostile}"  # the whole name, as text
    assert "&lt;script&gt;" in svg and "<script>" not in svg and "&amp;" in svg


def test_a_file_with_a_doctype_is_refused_as_every_diagram_is():
    xml = MINI.read_text(encoding="utf-8").replace(
        "<bpmn:definitions", '<!DOCTYPE x [<!ENTITY e "起草">]>\n<bpmn:definitions', 1)
    with pytest.raises(Invalid, match="DOCTYPE"):
        render(xml, "mini_approval")


def test_a_file_without_di_says_it_cannot_be_drawn():
    xml = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", MINI.read_text(encoding="utf-8"), flags=re.S)
    with pytest.raises(Invalid) as refused:
        render(xml, "mini_approval", file_name="no_picture.bpmn")
    assert refused.value.message.startswith("no_picture.bpmn: 此流程图没有图形信息")
    assert NO_DI in refused.value.message


def test_chinese_wraps_between_characters_and_other_text_at_spaces():
    assert wrap("合法合规性审查（含补全意见）", 60, 5) == ["合法合规性", "审查（含补", "全意见）"]
    assert wrap("legality review of the plan", 80, 5) == ["legality", "review of", "the plan"]
    assert wrap("按合法性审查意见修改方案", 36, 2) == ["按合法", "性审…"]  # the rest in the shape's title


def test_each_element_is_drawn_in_its_state_with_how_often_it_ran():
    xml = MINI.read_text(encoding="utf-8")
    svg = render(xml, "mini_approval", {"Task_Draft": ElementState("completed", 2),
                                        "Task_Review": ElementState("active", 1)})
    root = etree.fromstring(svg.encode())
    by_id = {g.get("data-element-id"): g for g in root.iter(f"{SVG}g") if g.get("data-element-id")}
    assert "completed" in by_id["Task_Draft"].get("class").split()
    assert [t.text for t in by_id["Task_Draft"].iter(f"{SVG}tspan")][-1] == "2"  # the badge: twice
    assert "active" in by_id["Task_Review"].get("class").split()
    assert not by_id["Task_Review"].xpath(".//*[@class='bpmn-times']")  # once: no badge
    assert not {"active", "completed"} & set(by_id["Event_Done"].get("class").split())


