"""BPMN processes: checking diagrams, deploying them, listing what is deployed, and what changed
between versions.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import display
from .params import acting_user
from .shared import EXIT_CODES, _emit, command, main
from .show import _local


def _read_files(paths) -> list[tuple[str, bytes]]:
    """Each file's bytes, read no further than one byte past the size limit: a path such as
    /dev/zero never ends, and the limit refuses what is longer anyway."""
    from ..xmlsafe import MAX_BYTES
    files, seen = [], set()
    for p in paths:
        if os.path.realpath(p) in seen:  # globs that overlap name a file twice: it is still one file
            continue
        seen.add(os.path.realpath(p))
        with open(p, "rb") as f:
            files.append((str(p), f.read(MAX_BYTES + 1)))
    return files


@command(main, "check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def check_cmd(state, as_json, files):
    """检查 BPMN 文件并列出全部问题，不部署 (print every problem in BPMN files without deploying them)."""
    from ..checks import check_files
    deployed = _deployed(state)
    report = check_files(_read_files(files), deployed_keys=None if deployed is None else set(deployed),
                         deployed_xml=[xml for _, xml in (deployed or {}).values()],
                         directory=None if deployed is None else _directory(state))
    errors = [p for p in report.problems if p["severity"] == "error"]
    warnings = [p for p in report.problems if p["severity"] == "warning"]
    result = {"files": list(files), "problems": report.problems, "errors": len(errors),
              "warnings": len(warnings), "modeler_lint": report.modeler_lint}

    def human(d):
        for p in d["problems"]:
            click.echo(_problem_line(p))
        if d["modeler_lint"] != "ran":
            click.echo(f"Camunda Modeler 检查 (lint)：{_lint_skipped(d['modeler_lint'])}")
        click.echo(f"{d['errors']} 个错误，{d['warnings']} 个警告 ({display.counted(d['errors'], 'error')}, {display.counted(d['warnings'], 'warning')})")
    _emit(result, as_json, human)
    if errors:
        sys.exit(EXIT_CODES["invalid"])


_SEVERITY = {"error": "错误 error", "warning": "警告 warning"}


def _problem_line(p: dict) -> str:
    """A problem as `check` prints it, and `deploy` its warnings: file, severity, element id (name), rule, message."""
    return (f"{p['file']}: {_SEVERITY.get(p['severity'], p['severity'])}: {p['element_id'] or '-'}"
            f"{' (' + p['element_name'] + ')' if p['element_name'] else ''}: [{p['rule']}] {p['message']}")


def _lint_skipped(state: str) -> str:
    """Why the Modeler lint did not run, Chinese first (the reason itself is the toolchain's English)."""
    return f"未运行 ({state})" if state.startswith("skipped") else state


def _deployed(state) -> dict | None:
    """The latest deployed diagrams (key -> (sha256, xml)), so a call activity may name them
    and the variables they set count; None if there is no database yet. Checking never
    creates a database."""
    from sqlalchemy.exc import DBAPIError

    from models.db import normalise_url

    from ..commands import latest_diagrams
    url = normalise_url(state.db_url) if state.db_url else None
    if url is None or url.startswith("sqlite"):
        # the default database (models.db.default_url) lives in ./instance/
        # `sqlite://` (in memory) has no path at all: nothing is deployed there
        path = url.partition("///")[2] if url else str(Path.cwd() / "instance" / "reformflow.sqlite3")
        if path in ("", ":memory:") or not Path(path).exists():
            return None
    try:
        with state.db.reader() as s:
            return latest_diagrams(s)
    except DBAPIError:
        return None


def _directory(state) -> tuple[dict[str, str], dict[str, str]]:
    from ..commands import directory_of
    with state.db.reader() as s:
        return directory_of(s)


_DEPLOYED = {"created": "已部署新版本 (created)", "unchanged": "内容未变，未新增版本 (unchanged)"}


@command(main, "deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@acting_user(operator=True)
@click.option("--yes", is_flag=True,
              help="只改了图形布局或注释的文件也部署为新版本，不再询问 (deploy a file that changed only in layout or "
                   "a comment as a new version without asking).")
def deploy_cmd(state, as_json, files, actor, yes):
    """部署 BPMN 文件，全部成功或全部不变 (deploy BPMN files, all or nothing)."""
    from ..errors import Invalid
    read = _read_files(files)
    if not yes:
        _confirm_looks_changed_only(state, read)
    try:
        result = state.engine.deploy(read, actor=actor)
    except Invalid as exc:
        if as_json or not exc.details:
            raise
        _refuse_problems(exc.details)

    def human(d):
        for r in d["definitions"]:
            click.echo(f"{r['key']} v{r['version']} {_DEPLOYED.get(r['status'], r['status'])}")
            for w in r["warnings"]:
                click.echo(_problem_line(w), err=True)
        lint = d["definitions"][0]["modeler_lint"] if d["definitions"] else "ran"
        if lint != "ran":
            click.echo(f"Camunda Modeler 检查 (lint)：{_lint_skipped(lint)}；reformflow 自身的检查已运行 (the Python checks ran)",
                       err=True)
    _emit({"definitions": result}, as_json, human)


def _on_a_terminal() -> bool:
    """Whether someone can answer a question: standard input is a terminal, not a script's pipe."""
    return sys.stdin.isatty()


def _confirm_looks_changed_only(state, files) -> None:
    """A file that moved shapes only, or changed only a comment, would become version n+1 though
    plans run as before (a stray save in the Modeler): ask first on a terminal (default no);
    refuse the set in a script, saying to add --yes. A real change or an unchanged file never asks."""
    from ..diagram_changes import against_deployed, looks_changed_only
    from ..errors import Invalid
    with state.db.reader() as s:
        stray = looks_changed_only(against_deployed(s, files))
    if not stray or state.engine.deploy_errors(files):  # errors first: deploy refuses them without asking
        return
    keys = [p["key"] for p in stray]
    if not _on_a_terminal():
        raise Invalid(f"{'、'.join(keys)} 只改了图形布局或注释，办理方式没有变化，部署会新增一个版本；均未部署。确要部署为新版本请加 "
                      f"--yes ({', '.join(keys)} changed only in layout or a comment: plans would run as "
                      "before, yet deploying adds a version; nothing was deployed. Add --yes to deploy it anyway)")
    for p in stray:
        said = "只改了图形布局 (layout only)" if p["layout_only"] else "只改了注释或文字注解 (only a comment or a text annotation)"
        click.echo(f"{p['key']}（v{p['old_version']} → {p['file_name']}）：{said}", err=True)
    if not click.confirm("办理方式没有变化，仍要部署为新版本吗？(plans would run as before: deploy as a new version anyway?)",
                         default=False, err=True):
        click.echo("未部署 (nothing deployed)", err=True)
        sys.exit(1)


def _refuse_problems(problems: list[dict]) -> None:
    """A refused deploy's errors one a line, as `check` prints them: joined with '; ' they made one
    line of 1,100 characters."""
    click.echo(f"reformflow: invalid: 部署被拒绝：图中有 {len(problems)} 个错误，均未部署；改正后可先用 reformflow check "
               f"检查 (deploy refused: {display.counted(len(problems), 'error')}, nothing was deployed; run reformflow check after "
               "correcting them):", err=True)
    for p in problems:
        click.echo(_problem_line(p), err=True)
    sys.exit(EXIT_CODES["invalid"])


@command(main, "definitions")
@click.option("--all-versions", is_flag=True, help="列出每个版本 (list every version).")
def definitions_cmd(state, as_json, all_versions):
    """列出已部署的流程，默认每个只列最新版本 (list deployed process definitions, latest version of each by default)."""
    from ..queries import definitions
    with state.db.reader() as s:
        result = definitions(s, all_versions)
    _emit({"definitions": result}, as_json, lambda d: [
        click.echo(f"{r['key']:<20} v{r['version']:<3} {r['name']}  ({_local(r['deployed_at'])})") for r in d["definitions"]])


@command(main, "changes")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--process", "key", help="已部署流程的标识，与 --version 同用 (a deployed process's key, with --version).")
@click.option("--version", type=click.IntRange(min=1), help="与上一版比较的版本 (the version to compare with the one before it).")
def changes_cmd(state, as_json, files, key, version):
    """流程改了什么：BPMN 文件与已部署的最新版本比较，或已部署的某版与上一版比较 (what changed in a process:
    files against the latest deployed versions, or a deployed version against the one before).

    Each step, flow, gateway, event or lane added, removed or changed, and in what: name,
    instructions, who does it, deadline, form fields, conditions, timers, properties. Layout
    alone is no change of how plans run, and is said so."""
    from ..diagram_changes import against_deployed, between_versions
    if bool(files) == bool(key or version) or bool(key) != bool(version):
        raise click.UsageError("请给出 BPMN 文件，或 --process 与 --version (give BPMN files, or --process with --version)")
    with state.db.reader() as s:
        result = {"processes": [between_versions(s, key, version)] if key else against_deployed(s, _read_files(files))}
    _emit(result, as_json, lambda d: [_show_changes(p) for p in d["processes"]])


_CHANGE_WORDS = {"added": "新增 (added)", "removed": "删除 (removed)", "changed": "修改 (changed)"}


def _show_changes(p: dict) -> None:
    against = p.get("new_file") and f"v{p['new_version']}" or p.get("file_name")
    title = f"{p['key']}（v{p['old_version']} → {against}）" if p.get("old_version") else f"{p['key']}（{against}）"
    if p.get("new_process"):
        count = len(p["changes"])
        click.echo(f"{title}：尚未部署，部署后为第 1 版，有以下 {count} 个元素 "
                   f"(not deployed yet: it becomes version 1, with these {count} elements)")
    elif p.get("unchanged") and p.get("new_version"):
        click.echo(f"{title}：内容与第 {p['old_version']} 版相同，只是文件的写法不同 "
                   f"(the same content as version {p['old_version']}, written differently)")
    elif p.get("unchanged"):
        click.echo(f"{title}：内容与已部署的版本相同，部署时不新增版本 (the same content as deployed: deploying it adds no version)")
    elif p["layout_only"]:
        click.echo(f"{title}：只改了图形布局，办理方式没有变化 (layout only: plans run as before)")
    elif p.get("file_only"):
        click.echo(f"{title}：文件有改动，但环节、连线和图形布局都没有变化，如注释、文字注解或 Modeler 版本号；"
                   "部署会新增一个版本 (the file changed, but not its steps, flows or layout: a comment, a text "
                   "annotation or the Modeler's version; deploying it adds a version)")
    else:
        click.echo(f"{title}：{len(p['changes'])} 处变化 ({len(p['changes'])} change(s))")
    for c in p["changes"]:
        click.echo(f"  {_CHANGE_WORDS[c['change']]} {c['type_name']} ({c['type_name_en']}) {c['element_id']} {c['name']}".rstrip())
        if c.get("waiting"):
            click.echo(f"    {_waiting_note(c['waiting'])}")
        for d in c["details"]:
            if "added" in d:  # a lane's members: what joined and what left, not both whole lists
                click.echo(f"    {d['label']} ({d['label_en']})：{_added_and_removed(d)}")
            elif d["old"] is not None and d["new"] is not None:
                click.echo(f"    {d['label']} ({d['label_en']})：{d['old']} → {d['new']}")
            else:
                click.echo(f"    {d['label']} ({d['label_en']})：{d['new'] if d['old'] is None else '（删除 removed）' + d['old']}")


def _added_and_removed(detail: dict) -> str:
    said = [f"+ {', '.join(detail['added'])}"] if detail["added"] else []
    return "；".join(said + ([f"− {', '.join(detail['removed'])}"] if detail["removed"] else []))


def _waiting_note(waiting: dict) -> str:
    """Running plans wait in a removed step: they finish it on their own version."""
    versions = waiting["versions"]
    return (f"注意：{waiting['plans']} 个进行中的方案正停在这一步，仍按第 {'、'.join(map(str, versions))} 版办完，"
            f"不受新版本影响 (note: {waiting['plans']} running plan(s) are at this step; they finish on version "
            f"{', '.join(map(str, versions))}, which the new version does not change)")
