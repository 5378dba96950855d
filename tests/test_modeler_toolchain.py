"""The Camunda Modeler toolchain (tools/modeler/, engine/modeler.py).

Tests that run Node are marked ``@requires_modeler``: they are skipped when the toolchain is not
installed (no ``node``, or no ``npm ci --prefix tools/modeler`` yet) unless the environment says
REFORMFLOW_REQUIRE_MODELER=1 (CI does), in which case they FAIL with the reason.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from lxml import etree

from engine import modeler
from engine.modeler import (
    ModelerToolchainUnavailable,
    lint,
    roundtrip,
    roundtrip_with_warnings,
    semantic_diff,
    toolchain_status,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "modeler"
CLEAN = FIXTURES / "clean.bpmn"
LINT_PROBLEMS = FIXTURES / "lint_problems.bpmn"
UNKNOWN_ATTRIBUTE = FIXTURES / "unknown_attribute.bpmn"
UNKNOWN_ELEMENT = FIXTURES / "unknown_element.bpmn"

# the project's diagrams, as they exist when the tests are collected
BPMN_FILES = sorted((REPO_ROOT / "bpmn").glob("*.bpmn"))
BPMN_IDS = [p.name for p in BPMN_FILES]

REQUIRE_ENV = "REFORMFLOW_REQUIRE_MODELER"


# --------------------------------------------------------------------------- requires_modeler

def _modeler_required() -> bool:
    """CI sets REFORMFLOW_REQUIRE_MODELER=1: a missing toolchain is then a failure, not a skip."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def make_requires_modeler(status: tuple[bool, str], required: bool):
    """Build the decorator for a given toolchain status (a factory, so it can be tested)."""
    available, reason = status

    def decorator(test):
        test = pytest.mark.modeler(test)  # registered in setup.cfg: `-m "not modeler"` deselects these
        if available:
            return test
        if required:
            @functools.wraps(test)  # keeps pytestmark (parametrize, modeler) and the signature
            def fail_instead(*args, **kwargs):
                pytest.fail(f"Camunda Modeler toolchain required ({REQUIRE_ENV}=1) but unavailable: {reason}")

            return fail_instead
        return pytest.mark.skip(
            reason=f"Camunda Modeler toolchain unavailable: {reason} (set {REQUIRE_ENV}=1 to fail instead)"
        )(test)

    return decorator


requires_modeler = make_requires_modeler(toolchain_status(), _modeler_required())


def _by_rule(problems: list[dict]) -> set[tuple[str, str | None]]:
    return {(p["rule"], p["id"]) for p in problems}


def _errors(problems: list[dict]) -> list[dict]:
    return [p for p in problems if p["severity"] == "error"]


# --------------------------------------------------------------------------- helper itself

def _dummy_test_factory():
    def dummy():
        return "ran"

    return dummy


def test_requires_modeler_skips_when_unavailable_and_not_required():
    wrapped = make_requires_modeler((False, "no node"), required=False)(_dummy_test_factory())
    marks = [m for m in getattr(wrapped, "pytestmark", []) if m.name == "skip"]
    assert marks and "no node" in marks[0].kwargs["reason"]


def test_requires_modeler_fails_when_unavailable_and_required():
    wrapped = make_requires_modeler((False, "no node"), required=True)(_dummy_test_factory())
    assert not [m for m in getattr(wrapped, "pytestmark", []) if m.name == "skip"]
    with pytest.raises(pytest.fail.Exception, match="no node"):
        wrapped()


def test_requires_modeler_runs_when_available():
    test = _dummy_test_factory()
    wrapped = make_requires_modeler((True, "ok"), required=True)(test)
    assert wrapped is test and wrapped() == "ran"
    assert [m.name for m in wrapped.pytestmark] == ["modeler"]


def test_require_env_parsing(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    assert not _modeler_required()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    assert _modeler_required()
    monkeypatch.setenv(REQUIRE_ENV, "0")
    assert not _modeler_required()


def test_unavailable_toolchain_raises_with_hint(monkeypatch, tmp_path):
    monkeypatch.setattr(modeler, "MODELER_DIR", tmp_path)  # no node_modules there
    monkeypatch.setattr(modeler, "LINT_SCRIPT", tmp_path / "lint.mjs")
    monkeypatch.setattr(modeler, "ROUNDTRIP_SCRIPT", tmp_path / "roundtrip.mjs")
    (tmp_path / "lint.mjs").write_text("")
    (tmp_path / "roundtrip.mjs").write_text("")
    if modeler.shutil.which("node") is None:
        expected = "Node.js not found"
    else:
        expected = "npm ci --prefix tools/modeler"
    available, reason = modeler.toolchain_status()
    assert not available and expected in reason
    with pytest.raises(ModelerToolchainUnavailable, match=expected.replace(".", r"\.")):
        lint([str(CLEAN)])
    with pytest.raises(ModelerToolchainUnavailable):
        roundtrip(str(CLEAN))


def test_no_node_on_path(monkeypatch):
    monkeypatch.setattr(modeler.shutil, "which", lambda name: None)
    available, reason = modeler.toolchain_status()
    assert not available and "Node.js not found" in reason
    with pytest.raises(ModelerToolchainUnavailable, match="Node.js not found"):
        lint([str(CLEAN)])


# --------------------------------------------------------------------------- lint

@requires_modeler
def test_lint_clean_fixture_has_no_errors():
    problems = lint([str(CLEAN)])[str(CLEAN)]
    assert _errors(problems) == [], problems
    # Known conflict with reformflow conventions ("every element has a Chinese name"):
    # bpmnlint:recommended's superfluous-label warns on named flows that neither leave a
    # decision gateway nor carry a condition. Kept on purpose (see tools/modeler/README.md).
    warnings = {(p["rule"], p["id"]) for p in problems if p["severity"] == "warning"}
    assert warnings == {("superfluous-label", "Flow_ToReview"), ("superfluous-label", "Flow_ToDone")}
    # camunda-compat's only Camunda 7 rule, reported as info (reformflow sets no historyTimeToLive)
    infos = {(p["rule"], p["id"]) for p in problems if p["severity"] == "info"}
    assert infos == {("camunda-compat/history-time-to-live", "clean_review")}


@requires_modeler
def test_lint_problem_shape():
    result = lint([str(LINT_PROBLEMS), str(CLEAN)])
    assert list(result) == [str(LINT_PROBLEMS), str(CLEAN)]
    for problems in result.values():
        for p in problems:
            assert set(p) == {"id", "name", "rule", "message", "severity"}
            assert p["severity"] in ("error", "warning", "info")
            assert isinstance(p["message"], str) and p["message"]


@requires_modeler
def test_lint_finds_modeling_errors():
    problems = lint([str(LINT_PROBLEMS)])[str(LINT_PROBLEMS)]
    found = _by_rule(_errors(problems))
    # exclusive gateway with a conditional flow and a flow that is neither conditional nor default
    assert ("conditional-flows", "Flow_Reject") in found
    # a task nobody reaches, a task that leads nowhere, a task without a name
    assert ("no-implicit-start", "Task_Orphan") in found
    assert ("no-implicit-end", "Task_Rework") in found
    assert ("label-required", "Task_Rework") in found
    by_id = {p["id"]: p for p in problems}
    assert by_id["Task_Orphan"]["name"] == "无人到达的任务"
    assert by_id["Task_Rework"]["name"] is None
    # end event with two incoming flows and no joining gateway
    assert ("fake-join", "Event_Approved") in _by_rule(problems)


@requires_modeler
def test_lint_reports_unknown_camunda_attribute():
    problems = lint([str(UNKNOWN_ATTRIBUTE)])[str(UNKNOWN_ATTRIBUTE)]
    imports = [p for p in problems if p["rule"] == "moddle-import"]
    assert len(imports) == 1, problems
    (p,) = imports
    assert p["id"] == "Task_LegalReview" and p["name"] == "合法性审查"
    assert p["severity"] == "error"
    assert "camunda:candidateGroup" in p["message"]


@requires_modeler
def test_lint_reports_unknown_camunda_element_on_its_task():
    problems = lint([str(UNKNOWN_ELEMENT)])[str(UNKNOWN_ELEMENT)]
    imports = [p for p in problems if p["rule"] == "moddle-import"]
    assert len(imports) == 1, problems
    (p,) = imports
    assert p["id"] == "Task_LegalReview"
    assert "camunda:formfield" in p["message"] and "legalityOpinion" in p["message"]


@requires_modeler
def test_lint_not_bpmn_is_a_problem_not_a_crash(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text("this is not XML", encoding="utf-8")
    problems = lint([str(bad)])[str(bad)]
    assert [p["rule"] for p in problems] == ["moddle-parse"]
    assert problems[0]["severity"] == "error"


@requires_modeler
def test_lint_lists_the_first_100_import_warnings_then_a_count(tmp_path):
    """Placing a warning scans the text up to it: 20 000 unknown elements took 90 s, past the
    60 s `check` waits for."""
    many = tmp_path / "many.bpmn"
    clean = CLEAN.read_bytes()
    many.write_bytes(clean.replace(b"</bpmn:process>", b"<b/>" * 20_000 + b"</bpmn:process>", 1))
    # lint gives up after TIMEOUT_S (60 s) with an error: the 90 s it took fails this test
    imports = [p for p in lint([str(many)])[str(many)] if p["rule"] == "moddle-import"]
    assert len(imports) == 101 and all("unrecognized element <b>" in p["message"] for p in imports[:100])
    assert imports[100]["message"] == "19900 more import warnings like these are not listed"


@requires_modeler
def test_lint_missing_file():
    with pytest.raises(FileNotFoundError):
        lint([str(FIXTURES / "does_not_exist.bpmn")])


# --------------------------------------------------------------------------- round trip

def _parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


@requires_modeler
def test_roundtrip_clean_fixture_loses_nothing():
    original = CLEAN.read_bytes()
    out = roundtrip(str(CLEAN))
    assert semantic_diff(original, out.encode("utf-8")) == []
    # the fixture is written the way Modeler writes files: it is a fixed point of the round trip
    assert out == original.decode("utf-8")


@requires_modeler
def test_roundtrip_keeps_unknown_attribute_but_warns():
    original = UNKNOWN_ATTRIBUTE.read_bytes()
    out, warnings = roundtrip_with_warnings(str(UNKNOWN_ATTRIBUTE))
    assert semantic_diff(original, out.encode("utf-8")) == []  # moddle keeps it (in $attrs) ...
    assert [(w["rule"], w["id"]) for w in warnings] == [("moddle-import", "Task_LegalReview")]  # ... but warns


@requires_modeler
def test_roundtrip_drops_unknown_camunda_element_and_diff_sees_it():
    original = UNKNOWN_ELEMENT.read_bytes()
    out, warnings = roundtrip_with_warnings(str(UNKNOWN_ELEMENT))
    assert [w["id"] for w in warnings] == ["Task_LegalReview"]
    diff = semantic_diff(original, out.encode("utf-8"))
    assert len(diff) == 1, diff  # only the topmost lost element, not each descendant
    assert "lost element" in diff[0] and "camunda:formfield" in diff[0] and "Task_LegalReview" in diff[0]


@requires_modeler
@pytest.mark.parametrize("path", BPMN_FILES, ids=BPMN_IDS)
def test_roundtrip_project_diagram_loses_nothing(path):
    original = path.read_bytes()
    out, warnings = roundtrip_with_warnings(str(path))
    diff = semantic_diff(original, out.encode("utf-8"))
    assert diff == [], f"{path.name}: Camunda Modeler would change this on open+save:\n" + "\n".join(diff)
    assert warnings == [], f"{path.name}: import warnings: {warnings}"


@requires_modeler
@pytest.mark.parametrize("path", BPMN_FILES, ids=BPMN_IDS)
def test_lint_project_diagram_runs(path):
    problems = lint([str(path)])[str(path)]
    print(f"\n{path.name}: {len(problems)} problem(s)")
    for p in problems:
        print(f"  {p['severity']:7} {p['rule']:40} {p['id']} ({p['name']}): {p['message']}")
    serious = [p for p in problems if p["severity"] in ("error", "warning")]
    assert serious == [], f"{path.name}: Camunda Modeler lint: {serious}"


@requires_modeler
def test_the_library_passes_check_with_the_modeler_lint():
    """Issue #3: every file in bpmn/ passes `reformflow check` -- no error, no warning, lint included."""
    from engine.checks import check_files

    assert BPMN_FILES, "bpmn/ holds no diagram"
    report = check_files([(p.name, p.read_bytes()) for p in BPMN_FILES], deployed_keys=set())
    assert report.modeler_lint == "ran"  # the lint really ran: a skipped lint would hide its findings
    serious = [p for p in report.problems if p["severity"] in ("error", "warning")]
    assert serious == [], "\n".join(
        f"{p['file']}: {p['severity']}: {p['element_id']} ({p['element_name']}): [{p['rule']}] {p['message']}"
        for p in serious)


@requires_modeler
def test_reformflow_check_on_the_library_through_the_cli(tmp_path):
    """The command an analyst types: `reformflow check bpmn/*.bpmn` exits 0 and says 0 and 0."""
    from click.testing import CliRunner

    from engine.cli import main

    db_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"  # no database yet: check needs none
    result = CliRunner().invoke(main, ["--db", db_url, "check", *[str(p) for p in BPMN_FILES]],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Camunda Modeler 检查" not in result.output  # printed only when the lint was skipped
    assert result.output.strip().splitlines()[-1] == "0 个错误，0 个警告 (0 errors, 0 warnings)", result.output


@requires_modeler
@pytest.mark.parametrize("said, why", [
    ("file:///opt/tools/modeler/lint.mjs:151\n    const linter = new Linter({ config });\n                   ^\n\n"
     "TypeError: Linter is not a constructor\n    at main (file:///opt/tools/modeler/lint.mjs:151:20)\n"
     "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n\nNode.js v20.20.2",
     "lint.mjs exited 1 (TypeError: Linter is not a constructor)"),
    ("node:internal/modules/esm/resolve:854\n  throw new ERR_MODULE_NOT_FOUND(packageName);\n        ^\n\n"
     "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'bpmn-moddle'\n    at packageResolve (node:internal)",
     "lint.mjs exited 1 (Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'bpmn-moddle')"),
])
def test_check_says_in_one_line_that_the_lint_tool_itself_failed(tmp_path, monkeypatch, said, why):
    """A lint tool that crashes (a JavaScript exception, a broken install) is one line naming the
    file and what to do, not Node's stack trace; the Python checks' findings are still given."""
    from click.testing import CliRunner

    from engine.cli import main

    fake = tmp_path / "bin" / "node"  # answers --version as a good Node does, then fails as a broken one
    fake.parent.mkdir()
    (tmp_path / "said.txt").write_text(said, encoding="utf-8")
    fake.write_text(f'#!/bin/sh\nif [ "$1" = --version ]; then echo v20.20.2; exit 0; fi\n'
                    f'cat "{tmp_path / "said.txt"}" >&2\nexit 1\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "check", str(CLEAN)],
                                catch_exceptions=False)
    lines = [line for line in result.output.splitlines() if "Camunda Modeler" in line]
    assert lines == [f"Camunda Modeler 检查 (lint)：未运行 (skipped: {CLEAN} not linted: {why}; run `make setup` "
                     "(tools/modeler needs Node.js >= 20.12))"], result.output
    assert " at " not in result.output and "^" not in result.output  # no stack, no source pointer
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1].startswith("0 个错误")


# --------------------------------------------------------------------------- semantic_diff (no Node)

_BASE_TEXT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="D" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:userTask id="T" name="审核" camunda:candidateGroups="legal">
      <bpmn:documentation>先审查，再出具意见。</bpmn:documentation>
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="decision" type="enum">
            <camunda:value id="approve" name="同意" />
            <camunda:value id="return" name="退回" />
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="F" sourceRef="T" targetRef="T">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${decision == 'approve'}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""
_BASE = _BASE_TEXT.encode("utf-8")


def _edit(*pairs: tuple[str, str]) -> bytes:
    text = _BASE_TEXT
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def test_semantic_diff_identical():
    assert semantic_diff(_BASE, _BASE) == []
    assert semantic_diff(_BASE_TEXT, _BASE_TEXT) == []  # str is accepted too


def test_semantic_diff_ignores_formatting_prefixes_and_comments():
    other = _edit(
        # default namespace instead of the bpmn: prefix; xsi:type QName compared by URI
        ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
         'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:b2="http://www.omg.org/spec/BPMN/20100524/MODEL"'),
        ("bpmn:", ""),
        ('xsi:type="tFormalExpression"', 'xsi:type="b2:tFormalExpression"'),
        ("xmlns:camunda=", "xmlns:c="),
        ("camunda:", "c:"),
        # attribute order, line breaks inside a tag, a comment
        ('<userTask id="T" name="审核" c:candidateGroups="legal">',
         '<userTask  c:candidateGroups="legal"\n   name="审核" id="T"><!-- c -->'),
        # CDATA and surrounding whitespace
        ("${decision == 'approve'}", "<![CDATA[  ${decision == 'approve'}\n ]]>"),
    )
    _parse(other)
    assert semantic_diff(_BASE, other) == []


def test_semantic_diff_ignores_order_of_different_child_tags():
    doc = "<bpmn:documentation>先审查，再出具意见。</bpmn:documentation>\n"
    moved = _edit(("      " + doc, ""), ("</bpmn:extensionElements>\n", "</bpmn:extensionElements>\n      " + doc))
    assert semantic_diff(_BASE, moved) == []


def test_semantic_diff_lost_and_changed_attributes():
    changed = _edit((' camunda:candidateGroups="legal"', ""), ('isExecutable="true"', 'isExecutable="false"'))
    diff = semantic_diff(_BASE, changed)
    assert any("lost attribute camunda:candidateGroups='legal'" in d and "'T'" in d for d in diff), diff
    assert any("changed attribute isExecutable" in d and "'true' -> 'false'" in d for d in diff), diff
    assert len(diff) == 2
    added = semantic_diff(changed, _BASE)
    assert any(d.startswith("added attribute camunda:candidateGroups") for d in added), added


def test_semantic_diff_extension_element_changes():
    # an enum value lost
    lost = _edit(('            <camunda:value id="return" name="退回" />\n', ""))
    diff = semantic_diff(_BASE, lost)
    assert len(diff) == 1 and "lost element" in diff[0] and "camunda:value[2]" in diff[0], diff
    # enum values swapped: the order of same-tag siblings is meaning (the order the form shows)
    swapped = _edit(
        ('id="approve" name="同意"', 'id="tmp"'),
        ('id="return" name="退回"', 'id="approve" name="同意"'),
        ('id="tmp"', 'id="return" name="退回"'),
    )
    assert len(semantic_diff(_BASE, swapped)) == 4  # id and name changed on both values
    # an attribute of a camunda element changed
    diff = semantic_diff(_BASE, _edit(('type="enum"', 'type="string"')))
    assert diff == ["changed attribute type on <bpmn:userTask id='T'>/bpmn:extensionElements/camunda:formData"
                    "/camunda:formField: 'enum' -> 'string'"], diff


def test_semantic_diff_text_and_elements():
    diff = semantic_diff(_BASE, _edit(("${decision == 'approve'}", "${decision == 'return'}")))
    assert len(diff) == 1 and "changed text" in diff[0] and "conditionExpression" in diff[0], diff
    diff = semantic_diff(_BASE, _edit(('id="F"', 'id="F2"')))
    assert sorted(d.split(" <")[0] for d in diff) == ["added element", "lost element"], diff
    diff = semantic_diff(_BASE, _edit(("先审查，再出具意见。", "先审查，  再出具意见。")))
    assert len(diff) == 1 and "documentation" in diff[0], diff


def test_semantic_diff_dropped_defaults():
    explicit = _edit(('<bpmn:userTask id="T"', '<bpmn:userTask id="T" isForCompensation="false" camunda:exclusive="true"'))
    assert semantic_diff(explicit, _BASE) == []  # what moddle omits on save: meaning unchanged
    strict = semantic_diff(explicit, _BASE, ignore_dropped_defaults=False)
    assert sorted(strict) == [
        "lost attribute camunda:exclusive='true' on <bpmn:userTask id='T'>",
        "lost attribute isForCompensation='false' on <bpmn:userTask id='T'>",
    ], strict
    # a non-default value is a real loss
    diff = semantic_diff(_edit(('<bpmn:userTask id="T"', '<bpmn:userTask id="T" camunda:exclusive="false"')), _BASE)
    assert diff == ["lost attribute camunda:exclusive='false' on <bpmn:userTask id='T'>"], diff


@requires_modeler
def test_dropped_defaults_table_matches_moddle_descriptors():
    """DROPPED_DEFAULTS must list exactly the attribute defaults of the pinned descriptors."""
    import json

    modules = modeler.MODELER_DIR / "node_modules"
    descriptors = [
        modules / "bpmn-moddle/resources/bpmn/json/bpmn.json",
        modules / "bpmn-moddle/resources/bpmn/json/bpmndi.json",
        modules / "camunda-bpmn-moddle/resources/camunda.json",
    ]
    derived = {}
    for path in descriptors:
        desc = json.loads(path.read_text(encoding="utf-8"))
        for type_ in desc["types"]:
            for prop in type_.get("properties", []):
                if "default" in prop and prop.get("isAttr") and prop["type"] != "Real":
                    value = prop["default"]
                    literal = ("true" if value else "false") if isinstance(value, bool) else str(value)
                    derived[(desc["uri"], prop["name"])] = literal
    assert derived == modeler.DROPPED_DEFAULTS


def test_semantic_diff_not_xml():
    assert semantic_diff(_BASE, b"<broken")[0].startswith("round-tripped document is not well-formed")


def test_semantic_diff_does_not_resolve_entities():
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"><bpmn:documentation>&x;</bpmn:documentation></bpmn:definitions>"""
    diff = semantic_diff(evil, evil)
    assert diff == []
    assert b"root:" not in etree.tostring(_parse(evil))
