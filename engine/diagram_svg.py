"""A deployed diagram drawn as SVG from its diagram interchange (DI), the shapes' bounds and the
flows' waypoints Camunda Modeler writes, with each element's state for one plan if given.

    render(xml, key, states=None, title=None, standalone=False) -> str

Pools and lanes with their names, tasks (rounded, the name wrapped inside, a marker for a user
task, script task, call activity, subprocess or multi-instance), events (circles: start thin, end
thick, intermediate double; timer, message, signal, escalation, error and terminate markers),
gateways (diamonds with X, + or O), sequence flows with arrowheads, names of flows, events and
gateways where their BPMNLabel bounds put them, text annotations and their associations.

A diagram is untrusted input: it is parsed by engine/xmlsafe.py like every diagram, and the
SVG is built element by element with lxml, so a name is always text, never markup. Colours of
the states come from CSS classes (the web's style sheet; a standalone file gets its own <style>),
the drawing itself from plain presentation attributes, so the picture reads without the sheet;
the flows a plan passed along (`taken`) are part of the drawing: thick and green, with their own
arrowhead.
"""
from __future__ import annotations

import hashlib
import math
import unicodedata
from dataclasses import dataclass

from lxml import etree

from .diagram_changes import find_process, local_name
from .errors import Invalid
from .parser import BPMN_NS
from .xmlsafe import parse_bpmn_bytes

BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SVG = "http://www.w3.org/2000/svg"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI, "dc": DC, "di": DI}

FONT_SIZE = 12
LINE_HEIGHT = 14
LABEL_WIDTH = 90  # Modeler wraps an outside label at this width
MARGIN = 10
NO_DI = ("此流程图没有图形信息（BPMNDiagram），无法画出：请在 Camunda Modeler 中打开此文件，"
         "排好版面后保存，再部署 (the diagram has no diagram interchange (BPMNDiagram) to draw it from: "
         "open the file in Camunda Modeler, lay it out, save it and deploy it again)")

TASKS = {"task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "scriptTask",
         "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
STATES = ("completed", "active", "withdrawn")
TAKEN_COLOUR = "#1e6b34"  # a flow the plan passed along: the colour of a step done, and thicker

# The colours a standalone file (the command line's) carries; the web page's are in
# web/static/style.css under the same classes.
STANDALONE_STYLE = """
.bpmn-element.completed .outline { fill: #e3f1e6; stroke: #1e6b34; }
.bpmn-element.active .outline { fill: #fff3cd; stroke: #b35900; stroke-width: 4px; }
.bpmn-element.withdrawn .outline { fill: #eeeeee; stroke: #5f6b7a; stroke-dasharray: 6 3; }
.bpmn-times circle { fill: #1e6b34; } .bpmn-times text { fill: #fff; }
"""


@dataclass(frozen=True)
class ElementState:
    """Where a plan stands at one element: `completed` (ran `times` times), `active`, or
    `withdrawn` (open once, withdrawn before it was done); `times` counts the completed runs of an
    active element too (a step redone after a return)."""
    state: str
    times: int = 0


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _bounds(element) -> _Box | None:
    found = element.find("dc:Bounds", NS)
    if found is None:
        return None
    try:
        box = _Box(*(float(found.get(a)) for a in ("x", "y", "width", "height")))
    except (TypeError, ValueError):
        return None
    return box if all(math.isfinite(v) for v in (box.x, box.y, box.w, box.h)) else None


def _label_bounds(element) -> _Box | None:
    label = element.find("bpmndi:BPMNLabel", NS)
    return _bounds(label) if label is not None else None


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _path(*parts) -> str:
    """An SVG path's `d` from commands and numbers: _path("M", 1, 2.5, "h", 3) = "M 1 2.5 h 3"."""
    return " ".join(part if isinstance(part, str) else _number(part) for part in parts)


def _plane(root, key: str):
    """The plane that draws process `key`: its own, or its pool's collaboration; else the first."""
    planes = root.findall("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if not planes:
        return None
    pools = {p.getparent().get("id") for p in root.iterfind("bpmn:collaboration/bpmn:participant", NS)
             if p.get("processRef") == key}
    for plane in planes:
        if plane.get("bpmnElement") == key or plane.get("bpmnElement") in pools:
            return plane
    return planes[0]


def diagram_process(xml: str, key: str, file_name: str = "diagram.bpmn"):
    """The parsed file's root and process `key` in it (Invalid if the file has no such process)."""
    root = parse_bpmn_bytes(xml.encode("utf-8"), file_name).getroot()
    return root, find_process(root, key, file_name)


def positions(root, key: str) -> dict[str, tuple[float, float]]:
    """Each shape's element id and the top-left corner it is drawn at: the order the diagram reads."""
    plane = _plane(root, key)
    found = {}
    for shape in plane.iterfind("bpmndi:BPMNShape", NS) if plane is not None else ():
        box = _bounds(shape)
        if box is not None and shape.get("bpmnElement"):
            found[shape.get("bpmnElement")] = (box.x, box.y)
    return found


def render(xml: str, key: str, states: dict[str, ElementState] | None = None, *, title: str | None = None,
           standalone: bool = False, file_name: str = "diagram.bpmn") -> str:
    """The SVG of process `key` of the file `xml`, each element in its state; Invalid (NO_DI) if
    the file has no diagram interchange for it."""
    root, process = diagram_process(xml, key, file_name)
    return draw(root, process, states, title=title, standalone=standalone, file_name=file_name)


def draw(root, process, states: dict[str, ElementState] | None = None, *, taken: frozenset = frozenset(),
         title: str | None = None, standalone: bool = False, file_name: str = "diagram.bpmn",
         page_width: float = 0) -> str:
    """render() of a file already parsed (diagram_process), for a caller that reads it too;
    `taken`: the ids of the sequence flows a plan passed along, drawn as such; `page_width`: the
    width (drawn_width) of the widest diagram shown with this one, whose scale it takes."""
    return etree.tostring(_drawn(root, process, states, taken, title, standalone, file_name, page_width),
                          encoding="unicode")


def drawn_width(svg: str) -> float:
    """How wide draw() drew a diagram, in the Modeler's units (its viewBox's width)."""
    return float(etree.fromstring(svg).get("viewBox").split()[2])


def _drawn(root, process, states, taken, title, standalone, file_name, page_width):
    key = process.get("id")
    plane = _plane(root, key)
    shapes = plane.findall("bpmndi:BPMNShape", NS) if plane is not None else []
    edges = plane.findall("bpmndi:BPMNEdge", NS) if plane is not None else []
    if not shapes:
        raise Invalid(f"{file_name}: {NO_DI}")
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    drawing = _Drawing(elements, states or {}, taken, key)
    svg = drawing.start(title or process.get("name") or key, standalone)
    layers = {name: etree.SubElement(svg, f"{{{SVG}}}g", {"class": f"bpmn-{name}"})
              for name in ("pools", "containers", "flows", "nodes")}
    for shape in shapes:
        drawing.shape(shape, layers)
    for edge in edges:
        drawing.edge(edge, layers["flows"])
    drawing.finish(svg, page_width)
    return svg


class _Drawing:
    def __init__(self, elements: dict, states: dict, taken: frozenset, key: str):
        self.elements = elements
        self.states = states
        self.taken = taken
        # one arrowhead per diagram; several diagrams share a page, so its id is the key's
        self.arrow = "rf-arrow-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
        self.extent = [math.inf, math.inf, -math.inf, -math.inf]

    def start(self, title: str, standalone: bool):
        svg = etree.Element(f"{{{SVG}}}svg", {"class": "bpmn-diagram", "role": "img", "aria-label": title,
                                              "font-family": "sans-serif",
                                              "font-size": str(FONT_SIZE)}, nsmap={None: SVG})
        etree.SubElement(svg, f"{{{SVG}}}title").text = title
        defs = etree.SubElement(svg, f"{{{SVG}}}defs")
        if standalone:
            etree.SubElement(defs, f"{{{SVG}}}style").text = STANDALONE_STYLE
        marker = etree.SubElement(defs, f"{{{SVG}}}marker", {
            "id": self.arrow, "viewBox": "0 0 10 10", "refX": "10", "refY": "5", "markerWidth": "8",
            "markerHeight": "8", "orient": "auto-start-reverse", "markerUnits": "userSpaceOnUse"})
        etree.SubElement(marker, f"{{{SVG}}}path", {"d": "M 0 0 L 10 5 L 0 10 z", "class": "bpmn-arrowhead",
                                                     "fill": "#222"})
        if self.taken:  # a taken flow's arrowhead in the flow's colour
            taken = etree.SubElement(defs, f"{{{SVG}}}marker", {**marker.attrib, "id": self.arrow + "-taken"})
            etree.SubElement(taken, f"{{{SVG}}}path", {"d": "M 0 0 L 10 5 L 0 10 z", "class": "bpmn-arrowhead taken",
                                                        "fill": TAKEN_COLOUR})
        return svg

    def finish(self, svg, page_width: float = 0) -> None:
        x0, y0, x1, y1 = self.extent
        if not math.isfinite(x0):
            x0 = y0 = 0
            x1 = y1 = 100
        width, height = x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN
        svg.set("viewBox", " ".join(_number(v) for v in (x0 - MARGIN, y0 - MARGIN, width, height)))
        # Drawn 1:1 (one unit of the Modeler's a pixel), never larger: the style sheet shrinks a
        # picture wider than the page (max-width). A smaller diagram on a page with a wider one
        # takes the wider one's box, its own height and the drawing at its left (xMinYMin): when
        # the page shrinks the wide one, it shrinks this one by as much, so a step is as large in
        # both, where width="100%" blew a small called process up to the page's width.
        box = max(width, page_width)
        svg.set("width", _number(box))
        svg.set("height", _number(height))
        svg.set("preserveAspectRatio", "xMinYMin meet")
        # how wide it is drawn, in thousands of units: the page keeps a wide diagram legible
        # (a minimum width per class, scrolled sideways) where max-width would shrink it too far
        svg.set("class", f"bpmn-diagram bpmn-w{min(6, int(box // 1000))}")

    def _grow(self, box: _Box) -> None:
        e = self.extent
        e[0], e[1] = min(e[0], box.x), min(e[1], box.y)
        e[2], e[3] = max(e[2], box.x + box.w), max(e[3], box.y + box.h)

    # ------------------------------------------------------------------ shapes
    def shape(self, shape, layers: dict) -> None:
        box = _bounds(shape)
        element_id = shape.get("bpmnElement") or ""
        element = self.elements.get(element_id)
        if box is None:
            return
        self._grow(box)
        kind = local_name(element) if element is not None else "unknown"
        name = element.get("name") if element is not None else None
        classes = ["bpmn-element", kind]
        state = self.states.get(element_id)
        if state is not None and state.state in STATES:
            classes.append(state.state)
        expanded = kind in ("subProcess", "transaction", "adHocSubProcess") and shape.get("isExpanded") == "true"
        layer = ("pools" if kind in ("participant", "lane") else
                 "containers" if expanded or kind == "group" else "nodes")
        group = etree.SubElement(layers[layer], f"{{{SVG}}}g", {"class": " ".join(classes),
                                                                "data-element-id": element_id})
        if state is not None:
            group.set("data-state", state.state)
            group.set("data-times", str(state.times))
        if name:
            etree.SubElement(group, f"{{{SVG}}}title").text = name
        if kind in ("participant", "lane"):
            self._pool(group, box, name, shape.get("isHorizontal") != "false")
        elif kind in TASKS:
            self._task(group, element, kind, box, name, expanded, shape.get("isExpanded") == "false")
        elif kind in EVENTS:
            self._event(group, element, kind, box)
            self._outside_label(group, shape, box, name)
        elif kind in GATEWAYS:
            self._gateway(group, kind, box)
            self._outside_label(group, shape, box, name)
        elif kind == "textAnnotation":
            self._annotation(group, element, box)
        else:  # data objects and stores, groups, anything else: its box and its name
            self._rect(group, box, "outline", dashed=kind == "group", rounded=kind == "group")
            self._outside_label(group, shape, box, name)
        if state is not None and state.times > 1 and kind not in ("participant", "lane"):
            self._times(group, box, state.times)

    def _rect(self, group, box: _Box, css: str, *, rounded=False, width=1.5, dashed=False, fill="#fff"):
        rect = etree.SubElement(group, f"{{{SVG}}}rect", {
            "x": _number(box.x), "y": _number(box.y), "width": _number(box.w), "height": _number(box.h),
            "class": css, "fill": fill, "stroke": "#222", "stroke-width": _number(width)})
        if rounded:
            rect.set("rx", "10")
        if dashed:
            rect.set("stroke-dasharray", "8 5")
        return rect

    def _pool(self, group, box: _Box, name: str | None, horizontal: bool) -> None:
        self._rect(group, box, "outline pool", fill="none")
        if horizontal:  # the name in a band at the left, read top to bottom
            band = _Box(box.x, box.y, 30, box.h)
            etree.SubElement(group, f"{{{SVG}}}line", {"x1": _number(box.x + 30), "y1": _number(box.y),
                                                      "x2": _number(box.x + 30), "y2": _number(box.y + box.h),
                                                      "stroke": "#222", "stroke-width": "1"})
            if name:
                text = self._text(group, [name], band.cx, band.cy, css="pool-name")
                text.set("writing-mode", "vertical-rl")
        elif name:
            self._text(group, [name], box.cx, box.y + 15, css="pool-name")

    def _task(self, group, element, kind: str, box: _Box, name: str | None, expanded: bool, collapsed: bool):
        self._rect(group, box, "outline", rounded=True, width=4 if kind == "callActivity" else 1.5)
        if expanded:
            if name:
                lines = wrap(name, box.w - 20, 2)
                self._text(group, lines, box.x + 10, box.y + 8 + LINE_HEIGHT / 2, anchor="start")
        elif name:
            lines = wrap(name, box.w - 10, max(1, int((box.h - 8) // LINE_HEIGHT)))
            self._text(group, lines, box.cx, box.cy - (len(lines) - 1) * LINE_HEIGHT / 2)
        x, y = box.x + 6, box.y + 6
        if kind == "userTask":  # a head and shoulders
            etree.SubElement(group, f"{{{SVG}}}circle", {"cx": _number(x + 6), "cy": _number(y + 4), "r": "3.5",
                                                        "class": "marker", "fill": "none", "stroke": "#222"})
            etree.SubElement(group, f"{{{SVG}}}path", {
                "d": f"M {_number(x)} {_number(y + 15)} q 0 -7 6 -7 q 6 0 6 7 z", "class": "marker",
                "fill": "none", "stroke": "#222"})
        elif kind == "scriptTask":  # a page of lines
            for i in range(3):
                etree.SubElement(group, f"{{{SVG}}}line", {
                    "x1": _number(x + 1), "y1": _number(y + 3 + 4 * i), "x2": _number(x + 11), "y2": _number(y + 3 + 4 * i),
                    "stroke": "#222", "class": "marker"})
        if kind == "callActivity" or collapsed:  # the [+] of a process drawn elsewhere
            mx, my = box.cx - 7, box.y + box.h - 16
            etree.SubElement(group, f"{{{SVG}}}rect", {"x": _number(mx), "y": _number(my), "width": "14",
                                                      "height": "14", "fill": "none", "stroke": "#222",
                                                      "class": "marker"})
            etree.SubElement(group, f"{{{SVG}}}path", {
                "d": f"M {_number(mx + 3)} {_number(my + 7)} h 8 M {_number(mx + 7)} {_number(my + 3)} v 8",
                "stroke": "#222", "class": "marker"})
        loop = element.find("bpmn:multiInstanceLoopCharacteristics", NS) if element is not None else None
        if loop is not None:  # three bars: upright for parallel, lying for sequential
            sequential = loop.get("isSequential") == "true"
            bx, by = box.cx - 6 + (12 if kind == "callActivity" or collapsed else 0), box.y + box.h - 16
            d = " ".join(f"M {_number(bx)} {_number(by + 2 + 5 * i)} h 12" if sequential else
                         f"M {_number(bx + 2 + 5 * i)} {_number(by)} v 12" for i in range(3))
            etree.SubElement(group, f"{{{SVG}}}path", {"d": d, "stroke": "#222", "stroke-width": "2",
                                                      "class": "marker"})

    def _event(self, group, element, kind: str, box: _Box) -> None:
        r = min(box.w, box.h) / 2
        width = {"startEvent": 2, "endEvent": 4}.get(kind, 1.5)
        circle = etree.SubElement(group, f"{{{SVG}}}circle", {
            "cx": _number(box.cx), "cy": _number(box.cy), "r": _number(r), "class": "outline", "fill": "#fff",
            "stroke": "#222", "stroke-width": str(width)})
        non_interrupting = (kind == "boundaryEvent" and element.get("cancelActivity") == "false") or \
            (kind == "startEvent" and element.get("isInterrupting") == "false")
        if non_interrupting:
            circle.set("stroke-dasharray", "5 3")
        if kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            inner = etree.SubElement(group, f"{{{SVG}}}circle", {
                "cx": _number(box.cx), "cy": _number(box.cy), "r": _number(r - 3), "fill": "none",
                "stroke": "#222", "stroke-width": "1.5", "class": "marker"})
            if non_interrupting:
                inner.set("stroke-dasharray", "5 3")
        filled = kind in ("endEvent", "intermediateThrowEvent")  # a throwing event's marker is filled
        for definition in element:
            if isinstance(definition.tag, str) and local_name(definition).endswith("EventDefinition"):
                self._event_marker(group, local_name(definition)[: -len("EventDefinition")], box, r, filled)
                break

    def _event_marker(self, group, what: str, box: _Box, r: float, filled: bool) -> None:
        """The event definition's sign inside the circle; filled when the event throws."""
        cx, cy, s = box.cx, box.cy, r * 0.5
        attrs = {"stroke": "#222", "fill": "#222" if filled else "none", "class": "marker"}
        if what == "timer":  # a clock face with two hands
            etree.SubElement(group, f"{{{SVG}}}circle", {**attrs, "fill": "#fff", "cx": _number(cx),
                                                        "cy": _number(cy), "r": _number(r * 0.6)})
            d = _path("M", cx, cy - r * 0.45, "V", cy, "L", cx + r * 0.3, cy + r * 0.15)
        elif what == "message":  # an envelope
            d = _path("M", cx - s, cy - s * 0.7, "h", 2 * s, "v", 1.4 * s, "h", -2 * s, "z",
                      "M", cx - s, cy - s * 0.7, "l", s, s * 0.8, "l", s, -s * 0.8)
            attrs["fill"] = "none"
        elif what == "escalation":  # an arrowhead pointing up
            d = _path("M", cx, cy - s, "L", cx + s * 0.7, cy + s, "L", cx, cy + s * 0.3, "L", cx - s * 0.7, cy + s, "z")
        elif what == "signal":  # a triangle
            d = _path("M", cx, cy - s, "L", cx + s, cy + s * 0.7, "L", cx - s, cy + s * 0.7, "z")
        elif what == "error":  # a lightning bolt
            d = _path("M", cx - s, cy + s, "L", cx - s * 0.4, cy - s, "L", cx + s * 0.2, cy + s * 0.2, "L", cx + s, cy - s)
            attrs["fill"] = "none"
        elif what == "terminate":  # a filled disc
            etree.SubElement(group, f"{{{SVG}}}circle", {**attrs, "fill": "#222", "cx": _number(cx),
                                                        "cy": _number(cy), "r": _number(r * 0.6)})
            return
        else:
            return
        etree.SubElement(group, f"{{{SVG}}}path", {**attrs, "d": d})

    def _gateway(self, group, kind: str, box: _Box) -> None:
        cx, cy, s = box.cx, box.cy, box.w * 0.2
        points = " ".join(f"{_number(x)},{_number(y)}" for x, y in (
            (cx, box.y), (box.x + box.w, cy), (cx, box.y + box.h), (box.x, cy)))
        etree.SubElement(group, f"{{{SVG}}}polygon", {"points": points, "class": "outline", "fill": "#fff",
                                                     "stroke": "#222", "stroke-width": "1.5"})
        mark = {"stroke": "#222", "stroke-width": "3", "fill": "none", "class": "marker"}
        if kind == "exclusiveGateway":  # X
            d = _path("M", cx - s, cy - s, "L", cx + s, cy + s, "M", cx + s, cy - s, "L", cx - s, cy + s)
        elif kind == "parallelGateway":  # +
            d = _path("M", cx - s * 1.2, cy, "h", s * 2.4, "M", cx, cy - s * 1.2, "v", s * 2.4)
        elif kind == "complexGateway":  # *
            d = _path(*(part for dx, dy in ((s, 0), (0, s), (s * 0.7, s * 0.7), (s * 0.7, -s * 0.7))
                        for part in ("M", cx - dx, cy - dy, "L", cx + dx, cy + dy)))
        else:  # inclusive: a thick ring (O); event-based: a thin one
            etree.SubElement(group, f"{{{SVG}}}circle", {
                **mark, "cx": _number(cx), "cy": _number(cy), "r": _number(s * 1.2),
                "stroke-width": "3" if kind == "inclusiveGateway" else "1"})
            return
        etree.SubElement(group, f"{{{SVG}}}path", {**mark, "d": d})

    def _annotation(self, group, element, box: _Box) -> None:
        d = f"M {_number(box.x + 15)} {_number(box.y)} H {_number(box.x)} V {_number(box.y + box.h)} " \
            f"H {_number(box.x + 15)}"
        etree.SubElement(group, f"{{{SVG}}}path", {"d": d, "fill": "none", "stroke": "#222", "class": "outline"})
        found = element.find("bpmn:text", NS) if element is not None else None
        text = " ".join((found.text or "").split()) if found is not None else ""
        if text:
            lines = wrap(text, box.w - 10, max(1, int((box.h - 4) // LINE_HEIGHT)))
            self._text(group, lines, box.x + 5, box.y + 4 + LINE_HEIGHT / 2 + 2, anchor="start")

    def _outside_label(self, group, shape, box: _Box, name: str | None) -> None:
        if not name:
            return
        label = _label_bounds(shape)
        if label is None:  # Modeler's default: under the shape
            label = _Box(box.cx - LABEL_WIDTH / 2, box.y + box.h + 5, LABEL_WIDTH, LINE_HEIGHT)
        self._label(group, label, name)

    def _label(self, group, label: _Box, name: str) -> None:
        self._grow(label)
        lines = wrap(name, max(label.w, LABEL_WIDTH) + 4, 4)
        self._text(group, lines, label.cx, label.y + LINE_HEIGHT / 2 + 1, css="label")

    def _times(self, group, box: _Box, times: int) -> None:
        """How often a step ran, in a badge at its top right corner."""
        badge = etree.SubElement(group, f"{{{SVG}}}g", {"class": "bpmn-times"})
        x, y = box.x + box.w, box.y
        etree.SubElement(badge, f"{{{SVG}}}circle", {"cx": _number(x), "cy": _number(y), "r": "10",
                                                    "fill": "#1e6b34"})
        text = self._text(badge, [f"{times}"], x, y, css="times")
        text.set("fill", "#fff")
        text.set("font-weight", "bold")

    def _text(self, group, lines: list[str], x: float, y: float, *, anchor: str = "middle", css: str = "name"):
        """Lines of text, the first centred on (x, y); each line a <tspan>, its text lxml's to escape."""
        text = etree.SubElement(group, f"{{{SVG}}}text", {"x": _number(x), "y": _number(y), "text-anchor": anchor,
                                                         "dominant-baseline": "central", "class": css,
                                                         "fill": "#111"})
        for i, line in enumerate(lines):
            span = etree.SubElement(text, f"{{{SVG}}}tspan", {"x": _number(x)})
            if i:
                span.set("dy", str(LINE_HEIGHT))
            span.text = line
        return text

    # ------------------------------------------------------------------ flows
    def edge(self, edge, layer) -> None:
        element_id = edge.get("bpmnElement") or ""
        element = self.elements.get(element_id)
        kind = local_name(element) if element is not None else "unknown"
        points = []
        for waypoint in edge.iterfind("di:waypoint", NS):
            try:
                x, y = float(waypoint.get("x")), float(waypoint.get("y"))
            except (TypeError, ValueError):
                continue
            if math.isfinite(x) and math.isfinite(y):
                points.append((x, y))
        if len(points) < 2:
            return
        for x, y in points:
            self._grow(_Box(x, y, 0, 0))
        taken = element_id in self.taken
        group = etree.SubElement(layer, f"{{{SVG}}}g", {"class": f"bpmn-flow {kind}" + (" taken" if taken else ""),
                                                        "data-element-id": element_id})
        line = etree.SubElement(group, f"{{{SVG}}}polyline", {
            "points": " ".join(f"{_number(x)},{_number(y)}" for x, y in points), "fill": "none",
            "stroke": TAKEN_COLOUR if taken else "#222", "stroke-width": "3" if taken else "1.5", "class": "line"})
        if kind in ("sequenceFlow", "messageFlow"):
            line.set("marker-end", f"url(#{self.arrow}{'-taken' if taken else ''})")
        if kind in ("association", "messageFlow", "dataInputAssociation", "dataOutputAssociation"):
            line.set("stroke-dasharray", "4 4")
        name = element.get("name") if element is not None else None
        if name:
            etree.SubElement(group, f"{{{SVG}}}title").text = name
            label = _label_bounds(edge)
            if label is None:
                (x1, y1), (x2, y2) = points[len(points) // 2 - 1], points[len(points) // 2]
                label = _Box((x1 + x2) / 2 - LABEL_WIDTH / 2, (y1 + y2) / 2 - LINE_HEIGHT - 2, LABEL_WIDTH, LINE_HEIGHT)
            self._label(group, label, name)


def _width(char: str) -> float:
    """About how wide a character is drawn: CJK and other wide ones a full em, others ~0.6 em."""
    return FONT_SIZE if unicodedata.east_asian_width(char) in ("W", "F") else FONT_SIZE * 0.6


def wrap(text: str, width: float, max_lines: int) -> list[str]:
    """`text` in lines of at most `width`: Chinese breaks between any two characters, other
    scripts at spaces (a word too long for a line is broken too). More lines than `max_lines`
    end in "…" (the whole name is the shape's <title>)."""
    tokens, word = [], ""
    for char in " ".join(text.split()):
        if char == " " or _width(char) == FONT_SIZE:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        else:
            word += char
    if word:
        tokens.append(word)
    lines, line = [], ""
    for token in tokens:
        if token == " " and not line:
            continue
        candidate = line + token
        if sum(map(_width, candidate.rstrip())) <= width or not line and len(token) == 1:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if token == " " else token
        while sum(map(_width, line)) > width and len(line) > 1:  # a word wider than the line
            cut = len(line) - 1
            while cut > 1 and sum(map(_width, line[:cut])) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and sum(map(_width, last + "…")) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines
