"""Check BPMN diagrams with the toolchain Camunda Modeler is built on.

The Node side lives in ``tools/modeler/`` (bpmn-moddle + camunda-bpmn-moddle to read and write
the XML, bpmnlint + bpmnlint-plugin-camunda-compat to lint it; versions pinned in its
package.json / package-lock.json, installed with ``npm ci --prefix tools/modeler``). This module
runs those scripts with ``node`` and gives their results to Python:

* :func:`lint` — bpmnlint problems per file (plus moddle import warnings, rule ``moddle-import``);
* :func:`roundtrip` — the file as Camunda Modeler would write it back after opening and saving;
* :func:`semantic_diff` — what a round trip lost or changed (pure Python, lxml; no Node needed).

Problems are dicts ``{"id", "name", "rule", "message", "severity"}``; severity is ``"error"``,
``"warning"`` or ``"info"`` (bpmnlint's third category: camunda-compat reports
``history-time-to-live`` as info). Deciding what blocks a deployment is the caller's job.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from lxml import etree

__all__ = [
    "DROPPED_DEFAULTS",
    "MODELER_DIR",
    "ModelerToolchainError",
    "ModelerToolchainUnavailable",
    "lint",
    "roundtrip",
    "roundtrip_with_warnings",
    "semantic_diff",
    "toolchain_status",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELER_DIR = REPO_ROOT / "tools" / "modeler"
LINT_SCRIPT = MODELER_DIR / "lint.mjs"
ROUNDTRIP_SCRIPT = MODELER_DIR / "roundtrip.mjs"

TIMEOUT_S = 60
MIN_NODE = (20, 12)  # engines.node of the pinned packages (saxen, @bpmn-io/lezer-feel: >= 20.12)

# packages the scripts import; a partial install is as unusable as none
_REQUIRED_PACKAGES = ("bpmn-moddle", "camunda-bpmn-moddle", "bpmnlint", "bpmnlint-plugin-camunda-compat")

_INSTALL_HINT = "run `npm ci --prefix tools/modeler`"


class ModelerToolchainUnavailable(RuntimeError):
    """Node or the npm packages under tools/modeler are missing; str() says why and what to do."""


class ModelerToolchainError(RuntimeError):
    """The toolchain is there but a script failed (bad usage, unreadable file, crash, time-out)."""


# --------------------------------------------------------------------------- availability

def _node() -> str | None:
    return shutil.which("node")


@functools.lru_cache(maxsize=8)
def _node_version(node: str) -> tuple[bool, str]:
    """(True, 'v20.1.0') or (False, why); cached per executable path (a run costs ~30 ms)."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"cannot run {node} --version: {exc}"
    if out.returncode != 0:
        return False, f"{node} --version failed: {(out.stderr or out.stdout).strip()!r}"
    return True, out.stdout.strip()


def toolchain_status() -> tuple[bool, str]:
    """(available, reason). Cheap: checks files; runs ``node --version`` once per node binary."""
    node = _node()
    if node is None:
        return False, "Node.js not found on PATH (need node >= %d.%d to run tools/modeler)" % MIN_NODE
    for script in (LINT_SCRIPT, ROUNDTRIP_SCRIPT):
        if not script.is_file():
            return False, f"{script} is missing"
    modules = MODELER_DIR / "node_modules"
    if not modules.is_dir():
        return False, f"{modules} is missing: {_INSTALL_HINT}"
    missing = [p for p in _REQUIRED_PACKAGES if not (modules / p / "package.json").is_file()]
    if missing:
        return False, f"npm packages missing in {modules}: {', '.join(missing)}: {_INSTALL_HINT}"
    ok, version = _node_version(node)
    if not ok:
        return False, version
    match = re.match(r"v(\d+)\.(\d+)\.", version)
    if not match:
        return False, f"{node} --version printed {version!r}"
    if (int(match.group(1)), int(match.group(2))) < MIN_NODE:
        return False, f"Node.js {version} at {node} is too old: tools/modeler needs node >= %d.%d" % MIN_NODE
    return True, f"node {version} at {node}; packages in {modules}"


def _require_toolchain() -> str:
    available, reason = toolchain_status()
    if not available:
        raise ModelerToolchainUnavailable(reason)
    node = _node()
    assert node is not None
    return node


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    node = _require_toolchain()
    cmd = [node, *args]
    try:
        return subprocess.run(
            cmd,
            cwd=MODELER_DIR,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelerToolchainError(f"{' '.join(cmd[:2])} timed out after {TIMEOUT_S} s") from exc
    except OSError as exc:  # node vanished between which() and exec
        raise ModelerToolchainUnavailable(f"cannot run {node}: {exc}") from exc


def _absolute(path: str | Path) -> str:
    # the scripts run with cwd=tools/modeler, so hand them absolute paths
    return str(Path(path).resolve())


# --------------------------------------------------------------------------- lint / roundtrip

def lint(paths: list[str]) -> dict[str, list[dict]]:
    """Lint BPMN files; return ``{path: [problem, ...]}`` keyed by the paths as given.

    Raises ModelerToolchainUnavailable (no node / no node_modules) or ModelerToolchainError
    (unreadable file, crash, time-out, unparsable output).
    """
    if isinstance(paths, (str, Path)):
        raise TypeError("lint() takes a list of paths")
    paths = [str(p) for p in paths]
    if not paths:
        return {}
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(p)
    absolute = [_absolute(p) for p in paths]
    proc = _run([str(LINT_SCRIPT), "--", *absolute])
    if proc.returncode != 0:
        raise ModelerToolchainError(
            f"lint.mjs exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}"
        )
    try:
        doc = json.loads(proc.stdout)
        by_abs = {entry["file"]: entry["problems"] for entry in doc["files"]}
        return {given: by_abs[abs_] for given, abs_ in zip(paths, absolute)}
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelerToolchainError(f"lint.mjs printed no valid result ({exc}): {proc.stdout[:500]!r}") from exc


def roundtrip_with_warnings(path: str) -> tuple[str, list[dict]]:
    """Open and save ``path`` like Camunda Modeler; return (xml, import warnings as problems)."""
    if not Path(path).is_file():
        raise FileNotFoundError(str(path))
    proc = _run([str(ROUNDTRIP_SCRIPT), _absolute(path)])
    if proc.returncode != 0:
        raise ModelerToolchainError(f"roundtrip.mjs exited {proc.returncode}: {proc.stderr.strip()}")
    warnings = []
    for line in proc.stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            warnings.append(json.loads(line))
        except ValueError:
            warnings.append({"id": None, "name": None, "rule": "moddle-import", "message": line, "severity": "error"})
    return proc.stdout, warnings


def roundtrip(path: str) -> str:
    """The XML Camunda Modeler would write after opening and saving ``path``."""
    return roundtrip_with_warnings(path)[0]


# --------------------------------------------------------------------------- semantic diff

_PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/modeler/1.0": "modeler",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}
# elements in these namespaces are identified by their id document-wide; everything else
# (camunda:formField ids are only unique per form, camunda:value ids repeat) by position
_ID_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
_CAMUNDA = "http://camunda.org/schema/1.0/bpmn"

# Attribute values moddle does not write because they equal the schema default (moddle-xml:
# "do not serialize default equals"). An explicit cancelActivity="true" disappears on save, and
# BPMN readers (SpiffWorkflow included) assume the same default. Keyed by (namespace of the
# attribute, or of its element when unqualified; local name) → the literal that gets dropped.
# Taken from the pinned bpmn-moddle / camunda-bpmn-moddle descriptors; a test checks the table
# against them. (dc:Bounds/di:waypoint x="0" is kept: moddle compares the number 0 with "0".)
DROPPED_DEFAULTS: dict[tuple[str, str], str] = {
    **{(_BPMN, name): value for name, value in {
        "gatewayDirection": "Unspecified", "instantiate": "false", "eventGatewayType": "Exclusive",
        "mustUnderstand": "false", "isReference": "false", "textFormat": "text/plain",
        "isInterrupting": "true", "parallelMultiple": "false", "cancelActivity": "true",
        "waitForCompletion": "true", "isCollection": "false", "isUnlimited": "true",
        "minimum": "0", "maximum": "1", "loopType": "None", "isForCompensation": "false",
        "startQuantity": "1", "completionQuantity": "1", "triggeredByEvent": "false",
        "isSequential": "false", "behavior": "All", "testBefore": "false",
        "cancelRemainingInstances": "true",
        "expressionLanguage": "http://www.w3.org/1999/XPath",
        "typeLanguage": "http://www.w3.org/2001/XMLSchema",
    }.items()},
    (_BPMNDI, "messageVisibleKind"): "initiating",
    **{(_CAMUNDA, name): value for name, value in {
        "local": "false", "async": "false", "asyncBefore": "false", "asyncAfter": "false",
        "exclusive": "true", "isStartableInTasklist": "true", "calledElementBinding": "latest",
        "caseBinding": "latest", "decisionRefBinding": "latest", "mapDecisionResult": "resultList",
    }.items()},
}
_WS = re.compile(r"\s+")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _qname(name: str) -> str:
    """'{uri}local' → 'prefix:local' for the well-known namespaces (for messages only)."""
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        prefix = _PREFIXES.get(uri)
        return f"{prefix}:{local}" if prefix else name
    return name


def _norm(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _attrs(el: etree._Element) -> dict[str, str]:
    out = {}
    for name, value in el.attrib.items():
        value = _norm(value)
        if name == _XSI_TYPE and ":" in value:
            # a QName value: compare by namespace URI, not by prefix
            prefix, local = value.split(":", 1)
            uri = el.nsmap.get(prefix)
            if uri:
                value = "{%s}%s" % (uri, local)
        out[name] = value
    return out


def _text(el: etree._Element) -> str:
    """Character content of the element itself (text + tails of its children), normalized."""
    parts = [el.text or ""]
    parts.extend(child.tail or "" for child in el)
    return _norm("".join(parts))


def _index(root: etree._Element) -> tuple[dict, list[str]]:
    """Map a stable key to (label, attributes, text, parent key) for every element.

    Key of an element with an id in a BPMN/DI namespace: (tag, id). Any other element: its
    parent's key + (tag, n) where n counts earlier siblings with the same tag — so the order of
    same-tag siblings (waypoints, form fields, enum values) matters, while the interleaving of
    different tags (documentation vs extensionElements) is formatting.
    """
    index: dict = {}
    problems: list[str] = []
    seen_ids: Counter = Counter()

    def visit(el: etree._Element, parent_key: tuple, parent_label: str) -> None:
        tag = el.tag
        ns = etree.QName(tag).namespace
        el_id = el.get("id")
        if el_id is not None and ns in _ID_NAMESPACES:
            seen_ids[(tag, el_id)] += 1
            n = seen_ids[(tag, el_id)]
            key: tuple = (("#", tag, el_id, n),)
            label = f"<{_qname(tag)} id={el_id!r}>" + (f" (#{n})" if n > 1 else "")
            if n == 2:
                problems.append(f"duplicate id: <{_qname(tag)} id={el_id!r}> occurs more than once")
        else:
            sibling_n = sum(1 for sib in el.itersiblings(preceding=True) if sib.tag == tag)
            key = parent_key + ((tag, sibling_n),)
            label = f"{parent_label}/{_qname(tag)}" + (f"[{sibling_n + 1}]" if sibling_n else "")
        index[key] = (label, _attrs(el), _text(el), parent_key)
        for child in el:
            if isinstance(child.tag, str):  # skip comments and processing instructions
                visit(child, key, label)

    visit(root, (), "")
    return index, problems


def _default_key(tag: str, attr: str) -> tuple[str, str]:
    q = etree.QName(attr)
    return (q.namespace or etree.QName(tag).namespace or "", q.localname)


def semantic_diff(
    original_xml: bytes, roundtripped_xml: bytes, *, ignore_dropped_defaults: bool = True
) -> list[str]:
    """What changed between a BPMN file and its Modeler round trip; ``[]`` = nothing lost.

    Compares elements (by namespace + id, or by position under the nearest element with an
    id), their attributes (namespace-qualified, whitespace-normalized; ``xsi:type`` QNames by
    namespace) and their character content (whitespace-normalized), which covers camunda:*
    extension elements. Ignored as pure formatting: indentation and line breaks, namespace
    prefixes and where namespaces are declared, attribute order, the order of sibling
    elements of different tags, comments and processing instructions, CDATA vs escaped text.

    With ``ignore_dropped_defaults`` (the default), an attribute present on one side only is
    not reported when its value is the schema default moddle omits on save (see
    DROPPED_DEFAULTS, e.g. ``cancelActivity="true"``): the meaning is unchanged.
    """
    if isinstance(original_xml, str):
        original_xml = original_xml.encode("utf-8")
    if isinstance(roundtripped_xml, str):
        roundtripped_xml = roundtripped_xml.encode("utf-8")
    parser = _parser()
    try:
        before_root = etree.fromstring(original_xml, parser)
    except etree.XMLSyntaxError as exc:
        return [f"original is not well-formed XML: {exc}"]
    try:
        after_root = etree.fromstring(roundtripped_xml, parser)
    except etree.XMLSyntaxError as exc:
        return [f"round-tripped document is not well-formed XML: {exc}"]

    before, diffs = _index(before_root)
    after, after_problems = _index(after_root)
    diffs.extend(f"round trip: {p}" for p in after_problems)

    def is_dropped_default(key: tuple, name: str, value: str) -> bool:
        if not ignore_dropped_defaults:
            return False
        tag = key[-1][1] if key[-1][0] == "#" else key[-1][0]
        return DROPPED_DEFAULTS.get(_default_key(tag, name)) == value

    for key, (label, attrs, text, parent) in before.items():
        if key not in after:
            # report the topmost lost element only, not each of its descendants
            if parent not in before or parent in after:
                diffs.append(f"lost element {label}")
            continue
        _, attrs2, text2, _ = after[key]
        for name, value in attrs.items():
            if name not in attrs2:
                if not is_dropped_default(key, name, value):
                    diffs.append(f"lost attribute {_qname(name)}={value!r} on {label}")
            elif attrs2[name] != value:
                diffs.append(f"changed attribute {_qname(name)} on {label}: {value!r} -> {attrs2[name]!r}")
        for name, value in attrs2.items():
            if name not in attrs and not is_dropped_default(key, name, value):
                diffs.append(f"added attribute {_qname(name)}={value!r} on {label}")
        if text != text2:
            diffs.append(f"changed text of {label}: {text!r} -> {text2!r}")
    for key, (label, _attrs2, _text2, parent) in after.items():
        if key not in before and (parent not in after or parent in before):
            diffs.append(f"added element {label}")
    return diffs
