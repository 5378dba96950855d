"""The library's diagrams read cleanly in Camunda Modeler: no name is drawn over another name,
over a shape, over a lane's title or border, or across a sequence flow, no name is squeezed
into a column one character wide, and every name drawn outside its shape has its position. (Rendered with bpmn-js, Modeler's renderer, such overlaps
were what made several names unreadable; docs/images holds the pictures.)"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree

from engine.xmlsafe import parse_bpmn_bytes

from .conftest import BPMN

DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
WAYPOINT = "{http://www.omg.org/spec/DD/20100524/DI}waypoint"
LANE_TITLE = 30  # Modeler draws a lane's or pool's name in a band this wide at its left
MARGIN = 1       # touching is not overlapping


def _box(bounds) -> tuple[float, float, float, float]:
    x, y = float(bounds.get("x")), float(bounds.get("y"))
    return x, y, x + float(bounds.get("width")), y + float(bounds.get("height"))


def _overlap(a, b) -> bool:
    return a[0] < b[2] - MARGIN and b[0] < a[2] - MARGIN and a[1] < b[3] - MARGIN and b[1] < a[3] - MARGIN


def _crosses(box, p, q) -> bool:
    """An orthogonal segment p–q passes through the box (the library draws only those)."""
    (x1, y1), (x2, y2) = p, q
    if x1 == x2:
        return box[0] + MARGIN < x1 < box[2] - MARGIN and min(y1, y2) < box[3] - MARGIN and max(y1, y2) > box[1] + MARGIN
    if y1 == y2:
        return box[1] + MARGIN < y1 < box[3] - MARGIN and min(x1, x2) < box[2] - MARGIN and max(x1, x2) > box[0] + MARGIN
    return False


def layout_problems(path: Path) -> list[str]:
    root = parse_bpmn_bytes(path.read_bytes(), path.name).getroot()
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    kind = {key: etree.QName(el).localname for key, el in elements.items()}
    labels, shapes, bands, borders, edges = [], [], [], [], []
    for shape in root.iter(DI + "BPMNShape"):
        owner, box = shape.get("bpmnElement"), _box(shape.find(DC + "Bounds"))
        if kind.get(owner) in ("lane", "participant"):
            bands.append((owner, (box[0], box[1], box[0] + LANE_TITLE, box[3])))
            borders.append((owner, box[1]))
        elif kind.get(owner) == "subProcess" and shape.get("isExpanded") == "true":
            shapes.append((owner, (box[0], box[1], box[2], box[1] + 25)))  # its title, drawn at the top
        else:
            shapes.append((owner, box))
    for edge in root.iter(DI + "BPMNEdge"):
        edges.append((edge.get("bpmnElement"), [(float(w.get("x")), float(w.get("y"))) for w in edge.iter(WAYPOINT)]))
    for item in (*root.iter(DI + "BPMNShape"), *root.iter(DI + "BPMNEdge")):
        bounds = item.find(f"{DI}BPMNLabel/{DC}Bounds")
        if bounds is not None:
            labels.append((item.get("bpmnElement"), _box(bounds)))
    problems = []
    # Modeler writes a position for the name of every event, gateway and flow it draws outside the
    # shape; one without it would be drawn where this test cannot see
    placed = {owner for owner, _ in labels}
    for item in (*root.iter(DI + "BPMNShape"), *root.iter(DI + "BPMNEdge")):
        owner = item.get("bpmnElement")
        outside = kind.get(owner, "").endswith(("Event", "Gateway")) or kind.get(owner) == "sequenceFlow"
        if outside and (elements[owner].get("name") or "").strip() and owner not in placed:
            problems.append(f"the name of {owner} has no position (BPMNLabel) in the diagram")
    name = lambda key: f"{key} ({elements[key].get('name')})" if key in elements else key  # noqa: E731
    for (a, box_a), (b, box_b) in combinations(labels, 2):
        if _overlap(box_a, box_b):
            problems.append(f"the names of {name(a)} and {name(b)} overlap")
    for owner, box in labels:
        text = elements[owner].get("name") or ""
        if len(text) > 2 and box[2] - box[0] < 30:
            problems.append(f"the name of {name(owner)} is squeezed into a column {box[2] - box[0]:g} wide")
        for other, other_box in shapes + bands:
            if other != owner and _overlap(box, other_box):
                problems.append(f"the name of {name(owner)} is drawn over {name(other)}")
        for lane, top in borders:
            if box[1] + MARGIN < top < box[3] - MARGIN and any(
                    b[0] < box[2] and box[0] < b[2] for key, b in bands if key == lane):
                problems.append(f"the name of {name(owner)} is drawn across the top border of {name(lane)}")
        for other, points in edges:
            if other != owner and any(_crosses(box, p, q) for p, q in zip(points, points[1:])):
                problems.append(f"the name of {name(owner)} is crossed by the flow {name(other)}")
    return problems


@pytest.mark.parametrize("path", sorted(BPMN.glob("*.bpmn")), ids=lambda p: p.name)
def test_no_name_is_drawn_over_anything_else(path):
    assert layout_problems(path) == []


def test_the_check_sees_a_name_moved_onto_a_shape(tmp_path):
    """The test above can fail: the legality review's 材料齐全 moved onto the next task is reported."""
    xml = (BPMN / "legality_review.bpmn").read_text(encoding="utf-8")
    moved = xml.replace('<dc:Bounds x="636" y="221" width="38" height="27" />',
                        '<dc:Bounds x="690" y="221" width="38" height="27" />')
    assert moved != xml
    (tmp_path / "moved.bpmn").write_text(moved, encoding="utf-8")
    assert layout_problems(tmp_path / "moved.bpmn") == [
        "the name of Flow_MaterialsComplete (材料齐全) is drawn over Task_StartReviewPeriod (审查期限起算)"]


def test_the_check_sees_a_name_without_a_position(tmp_path):
    xml = (BPMN / "legality_review.bpmn").read_text(encoding="utf-8")
    label = '<bpmndi:BPMNLabel>\n          <dc:Bounds x="636" y="221" width="38" height="27" />\n        </bpmndi:BPMNLabel>'
    assert label in xml
    (tmp_path / "unplaced.bpmn").write_text(xml.replace(label, ""), encoding="utf-8")
    assert layout_problems(tmp_path / "unplaced.bpmn") == [
        "the name of Flow_MaterialsComplete has no position (BPMNLabel) in the diagram"]
