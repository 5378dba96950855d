"""What `check_files` adds to the rules: XML Schema and SpiffWorkflow parse errors, the storage
safety net, and Camunda Modeler's lint."""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from ..errors import Invalid

SEVERITIES = ("error", "warning", "info")
# What each Camunda Modeler lint rule (bpmnlint `recommended`, camunda-compat for Camunda 7, and
# lint.mjs's own moddle-import / moddle-parse) finds, in Chinese: the lint's English message
# follows in brackets. A rule not listed here gets a general Chinese lead.
LINT_ZH = {
    "ad-hoc-sub-process": "ad-hoc 子流程中不能有开始事件或结束事件",
    "conditional-flows": "顺序流缺少条件：请给它设条件，或把它设为网关的默认流",
    "end-event-required": "缺少结束事件：请添加结束事件",
    "event-based-gateway": "基于事件的网关至少要有两条出口流，且出口流不能带条件",
    "event-sub-process-typed-start-event": "事件子流程的开始事件缺少事件定义",
    "fake-join": "多条流直接进入此元素，并不会汇合：请在它前面加一个网关来汇合",
    "global": "全局元素（消息、信号、错误等）缺少名称、未被使用或名称重复",
    "label-required": "元素缺少名称：请在 Modeler 中填写 Name",
    "link-event": "链接事件缺少链接名称，或找不到与之对应的链接事件",
    "no-bpmndi": "元素没有图形布局（bpmndi），在 Modeler 中看不到：请在 Modeler 中画出它并保存",
    "no-complex-gateway": "不建议使用复杂网关",
    "no-disconnected": "元素没有连接：请用顺序流连上它，或删除它",
    "no-duplicate-sequence-flows": "顺序流重复：请删除多余的一条",
    "no-gateway-join-fork": "网关既汇合又分支：请拆成两个网关",
    "no-implicit-split": "流程在此隐式分支：请在此元素后加一个网关",
    "no-implicit-end": "元素是隐式结束：请把它连到结束事件",
    "no-implicit-start": "元素是隐式开始：请从开始事件连一条顺序流到它",
    "no-inclusive-gateway": "Modeler 不建议使用包容网关（reformflow 可以运行包容网关）",
    "no-overlapping-elements": "元素在图上与其他元素重叠，或超出所属范围",
    "single-blank-start-event": "空白开始事件多于一个：请只保留一个",
    "single-event-definition": "事件有多个事件定义",
    "start-event-required": "缺少开始事件：请添加开始事件",
    "sub-process-blank-start-event": "子流程的开始事件须为空白开始事件",
    "superfluous-gateway": "网关多余：它只有一个入口和一个出口",
    "superfluous-label": "顺序流的标签多余：只有带条件的流、默认流或网关分出的流需要标签",
    "superfluous-termination": "终止结束事件多余",
    "camunda-compat/history-time-to-live": "流程应设置 historyTimeToLive（History cleanup → Time to live），"
                                           "Camunda 7.20 起要求；reformflow 忽略它",
    "moddle-import": "Camunda Modeler 导入时不认识此内容（未知的属性或元素、无效的引用或重复的 id）",
    "moddle-parse": "Camunda Modeler 无法把此文件读作 BPMN",
}
_ELEMENT_IN_MESSAGE = re.compile(r"element (\S+)(?: “(.*?)”)?(?:, line \d+)?: ")


def schema_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], dict]:
    """BPMN schema and SpiffWorkflow parse errors, per file, then for the files together.

    Also returns the parsed processes per file, for `storage_problems`."""
    from ..diagram_limits import limit_problems
    from ..parser import parse_files
    from ..xmlsafe import parse_bpmn_bytes

    def as_problem(file_name, exc: Invalid) -> dict:
        match = _ELEMENT_IN_MESSAGE.search(exc.message)
        element_id = match.group(1) if match and match.group(1) != "?" else None
        # the parser's message starts with the file, which the problem names already
        message = exc.message.removeprefix(f"{file_name}: ")
        return {"file": file_name, "element_id": element_id, "element_name": match.group(2) if match else None,
                "rule": "bpmn", "message": message, "severity": "error"}

    problems, parsed = [], {}
    for file_name, data in files:
        limits = limit_problems(parse_bpmn_bytes(data, file_name), file_name)
        for limit in limits:  # all of them, where parse_files would stop at the first
            problems.append({"file": file_name, "element_id": limit.element_id,
                             "element_name": limit.element_name, "rule": limit.rule,
                             "message": limit.message(), "severity": "error"})
        if limits:
            continue
        try:
            parsed[file_name] = parse_files([(file_name, data)])
        except Invalid as exc:
            problems.append(as_problem(file_name, exc))
        except Exception as exc:  # noqa: BLE001 - a parser crash is a problem of the file, not of check
            problems.append({"file": file_name, "element_id": None, "element_name": None, "rule": "bpmn",
                             "message": f"引擎无法读取此文件 (the engine cannot read this file: "
                                        f"{type(exc).__name__}: {exc})",
                             "severity": "error"})
    defined: dict[str, list[str]] = {}  # process id -> the files defining it
    for file_name, processes in parsed.items():
        for process in processes:
            defined.setdefault(process.key, []).append(file_name)
    for key, names in defined.items():
        for file_name in names[1:]:  # SpiffWorkflow's own message names neither file
            process = next(p for p in parsed[file_name] if p.key == key)
            problems.append({"file": file_name, "element_id": key, "element_name": process.name, "rule": "bpmn",
                             "message": f"流程 id {key} 也在 {names[0]} 中定义：流程 id 就是流程的 key，请只部署"
                                        f"其中一个文件，或给此流程换一个 id (process id {key} is also defined in "
                                        f"{names[0]}: a process id is the process's key, so deploy one of the files, "
                                        "or give this process another id)",
                             "severity": "error"})
    problems.extend(_shared_subprocess_ids(files))
    if not problems and len(files) > 1:
        try:
            parse_files(files)
        except Invalid as exc:  # the files together: name them all
            problems.append(as_problem(", ".join(name for name, _ in files), exc))
    return problems, parsed


_SUBPROCESSES = "//bpmn:subProcess | //bpmn:transaction | //bpmn:adHocSubProcess"


def _shared_subprocess_ids(files: list[tuple[str, bytes]]) -> list[dict]:
    """A subprocess id another file of the set uses for a subprocess or a process: the engine
    reads each subprocess as a process of its own, and its reader's "Duplicate process ID" named
    neither file (a copy of legality_review.bpmn with only the process id changed)."""
    from ..parser import NS
    from ..xmlsafe import parse_bpmn_bytes
    if len(files) < 2:
        return []
    roots = [(file_name, parse_bpmn_bytes(data, file_name).getroot()) for file_name, data in files]
    owners: dict[str, str] = {}  # process or subprocess id -> the first file using it
    for file_name, root in roots:
        for process_id in root.xpath("./bpmn:process/@id", namespaces=NS):
            owners.setdefault(process_id, file_name)
    problems = []
    for file_name, root in roots:
        for sub in root.xpath(_SUBPROCESSES, namespaces=NS):
            sub_id = sub.get("id")
            other = owners.setdefault(sub_id, file_name)
            if other != file_name:
                problems.append({"file": file_name, "element_id": sub_id, "element_name": sub.get("name"),
                                 "rule": "bpmn", "severity": "error",
                                 "message": f"子流程 id {sub_id} 在一起部署的 {other} 中也有：引擎把每个子流程当作一个流程来读，"
                                            f"一起部署的文件不能用相同的 id；请在此文件中给子流程换一个 id（如 {sub_id}_2），"
                                            f"或分开部署 (the subprocess id {sub_id} is also used in {other}, deployed "
                                            "with it: the engine reads each subprocess as a process of its own, so files "
                                            f"deployed together cannot share the id; give the subprocess in this file "
                                            f"another id (e.g. {sub_id}_2))"})
    return problems


def storage_problems(parsed: dict, clean_files: set[str]) -> list[dict]:
    """A safety net under the rules: a process the engine could not store is refused too.

    Only for files the rules found nothing wrong with (otherwise the rule already says why)."""
    from ..state import spec_to_json
    problems = []
    for file_name, processes in parsed.items():
        if file_name not in clean_files:
            continue
        for process in processes:
            try:
                spec_to_json(process.spec, process.embedded)
            except Exception as exc:  # noqa: BLE001 - anything the engine could not store
                problems.append({"file": file_name, "element_id": process.key, "element_name": process.name,
                                 "rule": "bpmn", "message": f"引擎无法保存此流程 (the engine cannot store this "
                                                            f"process: {exc})",
                                 "severity": "error"})
    return problems


_LINTED: dict[tuple, list[dict]] = {}  # (toolchain, file's SHA-256) -> what the lint found
_LINTED_MAX = 256


def _lint_setup() -> tuple:
    """When the lint's script, rules and installed packages last changed (a few stat calls)."""
    from ..modeler import LINT_SCRIPT, MODELER_DIR
    stamps = []
    for path in (LINT_SCRIPT, MODELER_DIR / ".bpmnlintrc", MODELER_DIR / "package-lock.json",
                 MODELER_DIR / "node_modules" / ".package-lock.json"):
        try:
            stamps.append(path.stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def lint_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], str]:
    """Camunda Modeler's lint, in one Node run for the files it has not linted yet: each file is
    linted on its own (lint.mjs), so what it found in a file is remembered by the file's content,
    and a library with one file changed lints that one file (about 0.1 s a file, besides Node's
    start). ([], "skipped: why") without Node."""
    from .. import modeler
    available, reason = modeler.toolchain_status()
    if not available:
        return [], _not_linted([name for name, _ in files], reason)
    setup = reason, _lint_setup()  # a new node, rule set or package install lints again
    keys = [(setup, hashlib.sha256(data).hexdigest()) for _, data in files]
    found_by_key = {key: _LINTED.get(key) for key in keys}  # read once: another thread may clear it
    new = {key: data for key, (_, data) in zip(keys, files) if found_by_key[key] is None}
    if new:
        with tempfile.TemporaryDirectory(prefix="reformflow-check-") as folder:
            paths = {}
            for index, (key, data) in enumerate(new.items()):
                # a numbered name of our own: the user's (up to 600 bytes on the web) may not fit
                # the file system's 255; the results come back to the file's content
                path = Path(folder) / f"{index:03d}.bpmn"
                path.write_bytes(data)
                paths[key] = str(path)
            try:
                results = modeler.lint(list(paths.values()))
            except (modeler.ModelerToolchainUnavailable, modeler.ModelerToolchainError) as exc:
                names = [name for (name, data), key in zip(files, keys) if key in new]
                return [], _not_linted(names, _first_error(str(exc)))
        found_by_key.update({key: results.get(path, []) for key, path in paths.items()})
        if len(_LINTED) + len(paths) > _LINTED_MAX:
            _LINTED.clear()
        _LINTED.update({key: found_by_key[key] for key in paths})
    problems = []
    for (file_name, data), key in zip(files, keys):
        found = found_by_key[key]
        if _without_layout(data, file_name):
            found = _one_for_no_layout(found)
        for p in found:
            severity = p.get("severity") if p.get("severity") in SEVERITIES else "error"
            zh = p.get("zh") or LINT_ZH.get(p.get("rule"), "Camunda Modeler 检查发现问题")
            problems.append({"file": file_name, "element_id": p.get("id"), "element_name": p.get("name"),
                             "rule": f"modeler/{p.get('rule')}", "message": f"{zh} ({p.get('message')})",
                             "severity": severity})
    return problems, "ran"


def _not_linted(names: list[str], reason: str) -> str:
    """The lint's state when it could not run: one line naming the files and what to do, for the
    command line, deploy's answer and the deploy page (never the lint tool's stack trace)."""
    from ..modeler import MIN_NODE
    shown = ", ".join(dict.fromkeys(names[:5])) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"skipped: {shown} not linted: {reason}; run `make setup` "
            f"(tools/modeler needs Node.js >= {MIN_NODE[0]}.{MIN_NODE[1]})")


_JS_ERROR = re.compile(r"^\s*(?:Uncaught )?([A-Z][A-Za-z]*Error|Error)\b(?: \[[A-Z_]+\])?(?::.*)?$")


def _first_error(failure: str) -> str:
    """What a failed lint run said in one line: its script and exit status, then the JavaScript
    error's own line (`TypeError: x is not a function`) without its stack, at most 200 characters."""
    head, _, said = failure.partition(": ")
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    error = next((line for line in lines if _JS_ERROR.match(line)), None) or (lines[0] if lines else "")
    error = error if len(error) <= 200 else error[:199] + "…"
    return f"{head} ({error})" if error else head


def _without_layout(data: bytes, file_name: str) -> bool:
    """No shape or edge at all: no bpmndi:BPMNDiagram, or an empty plane."""
    from ..xmlsafe import parse_bpmn_bytes
    di = "http://www.omg.org/spec/BPMN/20100524/DI"
    return not parse_bpmn_bytes(data, file_name).getroot().xpath(
        "//di:BPMNShape | //di:BPMNEdge", namespaces={"di": di})


def _one_for_no_layout(found: list[dict]) -> list[dict]:
    """A file without a layout had one no-bpmndi error per element (59 for legality_review): one
    for the file says it, in the place of the first."""
    missing = [p for p in found if p.get("rule") == "no-bpmndi"]
    if not missing:
        return found
    whole = {"id": None, "name": None, "rule": "no-bpmndi", "severity": missing[0].get("severity"),
             "zh": f"此文件没有图形布局（bpmndi:BPMNDiagram），Camunda Modeler 无法显示其中 {len(missing)} 个元素中的"
                   "任何一个：请在 Camunda Modeler 中画出流程并保存，或让生成此文件的程序一并写出图形布局",
             "message": f"the file has no diagram layout (bpmndi:BPMNDiagram): Camunda Modeler cannot show any of "
                        f"its {len(missing)} elements; draw the process in Camunda Modeler and save it, or write "
                        "the layout with the file"}
    first = found.index(missing[0])
    return found[:first] + [whole] + [p for p in found[first:] if p.get("rule") != "no-bpmndi"]
