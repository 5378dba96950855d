"""Deploy-time checks: find, before anything runs, every construct reformflow would fail on.

SpiffWorkflow accepts a Modeler file at parse time and fails mid-process on what it cannot
evaluate; a live plan would be stuck. Each rule here walks the XML (so it can name the element)
and yields problems: file, element id, element name, rule, message, severity.

* `check_processes(files)` — the Python rules on well-formed files; `Engine.deploy` refuses on
  any error they report.
* `check_files(files)` — what `reformflow check` prints: XML and BPMN schema errors as problems
  (not exceptions), the Python rules, and Camunda Modeler's own lint (bpmnlint with the
  camunda-compat rules, run once for all files through `engine.modeler`). Without Node.js the
  lint is skipped and the report says why.

Every rule and what to do about it is listed for analysts in docs/modeling.md.

The package, one module per job (every rule is `rule_*(doc) -> problems`, listed in `RULES`):

* `common` — namespaces, shared tables, the problem dict, element helpers, `Doc` (one parsed file
  with its indexes, the variables the files set and the values form fields fix);
* `variables` — variables read that nothing sets, misspelt multi-instance collections;
* `expressions` — reserved ids, conditions, timer values, script tasks;
* `forms` — user tasks, form fields, start forms, untyped and manual tasks;
* `multi_instance` — multi-instance hosts, collections, cardinality;
* `unsupported` — elements, Camunda attributes and extensions refused, ignored or unknown; start permission;
* `events` — event triggers, messages and signals, event-based gateways;
* `gateways` — gateway flows and conditions, gateway coverage, implicit splits, unreachable elements;
* `condition_values` — conditions their form fields' types make fail, or give no true/false;
* `calls` — call activities, and processes calling themselves (across files and deployed versions);
* `loops` — subprocesses nested deeper than the engine runs, loops of automatic steps only;
* `names` — names and labels shown to people with a control or invisible character in them;
* `ledger` — the ledger's process properties name variables that exist, of the right type;
* `properties` — a property the law bounds (legalReviewDays) out of bounds; one an expression counts
  with that is not a whole number; one a caller and the process it calls set differently (across files);
* `directory` — groups and users a diagram names that the database does not have (warnings);
* `files` — what `check_files` adds: schema and parse errors, the storage safety net, the Modeler lint.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Iterable

from ..errors import Invalid
from ..xmlsafe import parse_bpmn_bytes
from .calls import rule_call_activities
from .common import NS, Doc, calls_made, in_english, local_name, variables_set
from .condition_values import rule_condition_values
from .directory import directory_problems
from .events import rule_event_gateways, rule_events
from .expressions import rule_conditions, rule_reserved_ids, rule_scripts, rule_timers
from .files import lint_problems, schema_problems, storage_problems
from .forms import rule_form_field_types, rule_start_forms, rule_task_types, rule_user_tasks
from .gateways import (FLOW_NODES, SCOPES, rule_conditions_on_activities, rule_gateways, rule_implicit_splits,
                       rule_never_true_conditions, rule_unreachable)
from .ledger import rule_ledger_properties
from .loops import rule_automatic_loops, rule_subprocess_depth
from .multi_instance import rule_multi_instance
from .names import rule_hidden_characters, shown
from .properties import properties_counted_as_text, property_mismatches, rule_local_rules
from .unsupported import rule_camunda_8, rule_not_camunda_7, rule_start_permission, rule_unsupported
from .variables import rule_misspelt_collections, rule_undefined_variables

__all__ = ["CheckReport", "RULES", "check_files", "check_processes", "directory_problems"]


@dataclass
class CheckReport:
    """What `reformflow check` found. `modeler_lint` is "ran" or "skipped: <reason>"."""
    problems: list[dict] = field(default_factory=list)
    modeler_lint: str = "skipped: not requested"

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p["severity"] == "error"]

    @property
    def warnings(self) -> list[dict]:
        return [p for p in self.problems if p["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"problems": self.problems, "errors": len(self.errors), "warnings": len(self.warnings),
                "infos": len(self.problems) - len(self.errors) - len(self.warnings),
                "modeler_lint": self.modeler_lint}


RULES = [rule_camunda_8, rule_not_camunda_7, rule_reserved_ids, rule_conditions, rule_timers, rule_scripts, rule_user_tasks,
         rule_start_forms, rule_form_field_types, rule_task_types, rule_multi_instance, rule_unsupported,
         rule_start_permission, rule_events, rule_event_gateways, rule_gateways, rule_never_true_conditions,
         rule_condition_values, rule_conditions_on_activities, rule_implicit_splits, rule_unreachable,
         rule_automatic_loops, rule_subprocess_depth, rule_call_activities,
         rule_undefined_variables, rule_misspelt_collections, rule_ledger_properties, rule_local_rules,
         rule_hidden_characters]


# The rules that follow flows from element to element by id (Doc.by_id, Doc.outgoing): with an id
# used twice they meet the wrong element and report what is only a consequence (a false
# "unreachable", a default flow "not leaving this gateway"), so they wait until the id is fixed.
BY_ID_RULES = {rule_events, rule_event_gateways, rule_gateways, rule_never_true_conditions, rule_condition_values,
               rule_conditions_on_activities, rule_implicit_splits, rule_unreachable, rule_automatic_loops}


_TWICE = "在此文件中用了不止一次"  # in the schema's duplicate-id error too (parser._id_advice)
# the Modeler lint's rules on how elements connect: with an id used twice, consequences only
_AFTER_IDS = re.compile(r"modeler/(no-disconnected|no-implicit-start|no-implicit-end|fake-join|conditional-flows|"
                        r"superfluous-gateway|no-gateway-join-fork|start-event-required|end-event-required)\Z")


def _duplicate_ids(doc: Doc) -> dict[str, list]:
    """id -> its elements, for every id two BPMN elements of the file have."""
    seen: dict[str, list] = {}
    for el in doc.iter():
        if el.get("id"):
            seen.setdefault(el.get("id"), []).append(el)
    return {i: els for i, els in seen.items() if len(els) > 1}


def _duplicates_problem(doc: Doc, twice: dict[str, list]) -> dict:
    """One error for the ids used twice, each with its lines, saying which checks wait for it."""
    ids = sorted(twice, key=lambda i: twice[i][0].sourceline or 0)
    zh = "；".join(f"id {i} {_TWICE}，请在 Modeler 中给其中一个元素改用别的 id（第 "
                  f"{'、'.join(str(el.sourceline) for el in twice[i])} 行）" for i in ids)
    en = "; ".join(f"the id {i} is used more than once in this file: give one of the elements another id in the "
                   f"Modeler (lines {', '.join(str(el.sourceline) for el in twice[i])})" for i in ids)
    return doc.problem(twice[ids[0]][0], "bpmn", f"{zh}。{_WAITING[0]} ({en}. {_WAITING[1]})")


# said by an id used twice and by one missing: BY_ID_RULES wait for them
_WAITING = ("顺序流、网关和事件的检查要等改正后才会进行，改正后请再检查一次",
            "The checks of sequence flows, gateways and events run once it is fixed: check again then")


# What the engine and the rules find by its id: a flow node, a sequence flow, a (sub)process. The
# BPMN schema lets the id out; a hand-edited file without it met the rules as id None.
_NEEDS_ID = FLOW_NODES | SCOPES | {"sequenceFlow"}


def _missing_ids(doc: Doc) -> list[dict]:
    """One error for each element that needs an id and has none, named by its kind, name and line."""
    problems = []
    for el in doc.iter(*_NEEDS_ID):
        if not (el.get("id") or "").strip():
            what = local_name(el) + (f"“{el.get('name')}”" if el.get("name") else "")
            what_en = local_name(el) + (" " + in_english(el.get("name"), f"'{el.get('name')}'") if el.get("name") else "")
            problems.append(doc.problem(el, "bpmn", f"第 {el.sourceline} 行的 bpmn:{what} 没有 id：请在 Modeler 的 "
                                        f"General → ID 中给它一个 id。{_WAITING[0]} (the bpmn:{what_en} on line "
                                        f"{el.sourceline} has no id: give it one in the Modeler under General → ID. "
                                        f"{_WAITING[1]})"))
    return problems


def _executable_keys(roots: Iterable) -> set[str]:
    keys = set()
    for root in roots:
        keys.update(root.xpath("./bpmn:process[@isExecutable='true']/@id", namespaces=NS))
    return keys


_UNBOUND = re.compile(r"Namespace prefix camunda for \S+ on \S+ is not defined")


def _unbound_prefix(message: str) -> str | None:
    """`camunda:` pasted into a file saved without that namespace (bpmn.io): "save it again" does
    not apply; Camunda Modeler reads such a file and writes the namespace when it saves it."""
    unbound = _UNBOUND.search(message)
    if unbound is None:
        return None
    return (f"文件用了 camunda: 属性，却没有声明 camunda 命名空间（{unbound.group(0)}）：此文件不是用 Camunda Modeler"
            f"（Camunda 7）保存的。请在 Camunda Modeler 中打开它并保存，保存时会加上命名空间；或在 bpmn:definitions 上"
            f"加上 xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" (the file uses camunda: attributes without "
            f"declaring the namespace ({unbound.group(0)}): it was not saved by Camunda Modeler (Camunda 7). Open it "
            f"in Camunda Modeler and save it, which adds the namespace, or add xmlns:camunda=\"http://camunda.org/"
            "schema/1.0/bpmn\" to bpmn:definitions)")


def check_processes(files: list[tuple[str, bytes]], *, deployed_keys: Iterable[str] | None = None,
                    deployed_xml: Iterable[str] = ()) -> list[dict]:
    """Every problem the Python rules find in these files (each must be well-formed XML).

    `deployed_keys`: process keys already deployed; with it, call activities must name one of
    them or a process in `files`. None skips that rule.
    `deployed_xml`: the latest deployed diagrams; what they set counts as set, since a called
    process and its caller share their variables.
    """
    trees = [(name, parse_bpmn_bytes(data, name).getroot()) for name, data in files]
    keys = _executable_keys(root for _, root in trees)
    context = [parse_bpmn_bytes(xml.encode(), "deployed").getroot() for xml in deployed_xml]
    variables = variables_set([root for _, root in trees] + context)
    deployed = None if deployed_keys is None else set(deployed_keys)
    calls = calls_made(context + [root for _, root in trees])  # the files replace the versions deployed
    problems = []
    for file_name, root in trees:
        doc = Doc(file_name, root, keys, deployed, variables, calls)
        twice = _duplicate_ids(doc)
        if twice:
            problems.append(_duplicates_problem(doc, twice))
        unnamed = _missing_ids(doc)  # as an id used twice, a missing one misleads the rules that go by id
        problems.extend(unnamed)
        for rule in RULES:
            if not ((twice or unnamed) and rule in BY_ID_RULES):
                problems.extend(rule(doc))
    problems.extend(properties_counted_as_text(trees, context))
    problems.extend(property_mismatches(trees, context))
    return _names_shown(problems)


def _names_shown(problems: list[dict]) -> list[dict]:
    """Each problem's element name with a control or invisible character written as <U+XXXX>:
    printed raw, a line break in it split the report's lines (rule_hidden_characters says why)."""
    for p in problems:
        if p.get("element_name"):
            p["element_name"] = shown(p["element_name"])
    return problems


def check_files(files: list[tuple[str, bytes]], *, deployed_keys: Iterable[str] | None = None,
                deployed_xml: Iterable[str] = (), use_modeler: bool = True,
                directory: tuple[Collection[str], Collection[str]] | None = None) -> CheckReport:
    """Everything `reformflow check` reports; XML and schema errors are problems, not exceptions.
    `directory`: the database's (group codes, usernames), to warn about names it does not have;
    as dicts to their display names, a display name written for a code is named as such."""
    problems, readable, twice = [], [], set()
    for file_name, data in files:
        try:
            parse_bpmn_bytes(data, file_name)
            readable.append((file_name, data))
        except Invalid as exc:
            problems.append({"file": file_name, "element_id": None, "element_name": None,
                             "rule": "xml", "message": _unbound_prefix(exc.message) or exc.message,
                             "severity": "error"})
    if readable:
        schema, parsed = schema_problems(readable)
        checked = check_processes(readable, deployed_keys=deployed_keys, deployed_xml=deployed_xml)
        # an id used twice: the schema names the first one, check_processes every one and what waits for it
        twice = {p["file"] for p in checked if p["rule"] == "bpmn" and _TWICE in p["message"]}
        problems.extend(p for p in schema if not (p["file"] in twice and _TWICE in p["message"]))
        problems.extend(checked)
        if directory is not None:
            problems.extend(directory_problems(readable, *directory))
        flagged = {p["file"] for p in problems if p["severity"] == "error"}
        problems.extend(storage_problems(parsed, {name for name, _ in readable} - flagged))
    lint_state = "skipped: not requested"
    if use_modeler and readable:
        lint_found, lint_state = lint_problems(readable)
        # the lint's import fails on an id used twice too, and every flow then seems to lead nowhere
        problems.extend(p for p in lint_found if not (p["file"] in twice and (_AFTER_IDS.match(p["rule"])
                                                                             or "duplicate ID" in p["message"])))
    elif use_modeler:
        lint_state = "skipped: no readable file"
    return CheckReport(_names_shown(_said_by_the_gateway(problems, readable)), lint_state)


def _said_by_the_gateway(problems: list[dict], files: list[tuple[str, bytes]]) -> list[dict]:
    """One gateway flow without a condition, where the gateway has no default, was three errors:
    the engine's parse error and the Modeler lint's conditional-flows on the flow, and the gateway
    rule's on the gateway, the one that says what to do. Only that one is kept."""
    gateways = {(p["file"], p["element_id"]) for p in problems if p["rule"] == "gateway" and p["severity"] == "error"}
    if not gateways:
        return problems
    flows = set()
    for file_name, data in files:
        ours = {gid for name, gid in gateways if name == file_name}
        if ours:
            root = parse_bpmn_bytes(data, file_name).getroot()
            flows.update((file_name, flow.get("id")) for flow in root.xpath(
                "//bpmn:sequenceFlow[not(bpmn:conditionExpression)]", namespaces=NS)
                if flow.get("sourceRef") in ours)
    return [p for p in problems
            if not (p["rule"] in ("bpmn", "modeler/conditional-flows") and (p["file"], p["element_id"]) in flows)]
