"""What `check_files` adds to the rules: XML Schema and SpiffWorkflow parse errors, the storage
safety net, and Camunda Modeler's lint."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import Invalid

SEVERITIES = ("error", "warning", "info")
_ELEMENT_IN_MESSAGE = re.compile(r"element (\S+)(?: \((.*?)\))?(?:, line \d+)?: ")


def schema_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], dict]:
    """BPMN schema and SpiffWorkflow parse errors, per file, then for the files together.

    Also returns the parsed processes per file, for `storage_problems`."""
    from ..parser import parse_files

    def as_problem(file_name, exc: Invalid) -> dict:
        match = _ELEMENT_IN_MESSAGE.search(exc.message)
        element_id = match.group(1) if match and match.group(1) != "?" else None
        return {"file": file_name, "element_id": element_id, "element_name": match.group(2) if match else None,
                "rule": "bpmn", "message": exc.message, "severity": "error"}

    problems, parsed = [], {}
    for file_name, data in files:
        try:
            parsed[file_name] = parse_files([(file_name, data)])
        except Invalid as exc:
            problems.append(as_problem(file_name, exc))
        except Exception as exc:  # noqa: BLE001 - a parser crash is a problem of the file, not of check
            problems.append({"file": file_name, "element_id": None, "element_name": None, "rule": "bpmn",
                             "message": f"the engine cannot read this file: {type(exc).__name__}: {exc}",
                             "severity": "error"})
    defined: dict[str, list[str]] = {}  # process id -> the files defining it
    for file_name, processes in parsed.items():
        for process in processes:
            defined.setdefault(process.key, []).append(file_name)
    for key, names in defined.items():
        for file_name in names[1:]:  # SpiffWorkflow's own message names neither file
            process = next(p for p in parsed[file_name] if p.key == key)
            problems.append({"file": file_name, "element_id": key, "element_name": process.name, "rule": "bpmn",
                             "message": f"process id {key} is also defined in {names[0]}: a process id is the "
                                        f"process's key, so deploy one of the files, or give this process another id",
                             "severity": "error"})
    if not problems and len(files) > 1:
        try:
            parse_files(files)
        except Invalid as exc:  # the files together: name them all
            problems.append(as_problem(", ".join(name for name, _ in files), exc))
    return problems, parsed


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
                                 "rule": "bpmn", "message": f"the engine cannot store this process: {exc}",
                                 "severity": "error"})
    return problems


def lint_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], str]:
    """Camunda Modeler's lint on all files in one Node run; ([], "skipped: why") without Node."""
    from .. import modeler
    available, reason = modeler.toolchain_status()
    if not available:
        return [], f"skipped: {reason}"
    with tempfile.TemporaryDirectory(prefix="reformflow-check-") as folder:
        paths = []
        for index, (file_name, data) in enumerate(files):
            path = Path(folder) / f"{index:03d}-{Path(file_name).name or 'diagram.bpmn'}"
            path.write_bytes(data)
            paths.append(str(path))
        try:
            results = modeler.lint(paths)
        except (modeler.ModelerToolchainUnavailable, modeler.ModelerToolchainError) as exc:
            return [], f"skipped: {exc}"
    problems = []
    for (file_name, _), path in zip(files, paths):
        for p in results.get(path, []):
            severity = p.get("severity") if p.get("severity") in SEVERITIES else "error"
            problems.append({"file": file_name, "element_id": p.get("id"), "element_name": p.get("name"),
                             "rule": f"modeler/{p.get('rule')}", "message": p.get("message"), "severity": severity})
    return problems, "ran"
