"""The process library for analysts: the deployed definitions, and checking or deploying .bpmn
files uploaded from the browser — the same checks as `reformflow check`, the same all-or-nothing
Engine.deploy as `reformflow deploy`.

Uploaded files stay in memory: their names are only labels in the problems and the
definition's file_name, never a path. Who may deploy: the reform office, as Engine.deploy
refuses anyone else (the command line's deploy without --as is the operator's).
"""
from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from engine import migration
from engine.checks import check_files
from engine.diagram_changes import against_deployed, between_versions, looks_changed_only
from engine.commands import directory_of, latest_diagrams
from engine.documents import first_hidden
from engine.errors import Invalid, NotFound, ReformflowError
from engine.parser import own_name
from engine.queries import definitions as definition_rows
from engine.xmlsafe import MAX_BYTES

from . import current
from .i18n import say, sentence
from .refusals import status_of

bp = Blueprint("analyst", __name__)

MAX_FILES = 50  # the library is eight files; more in one upload is a wrong folder
MAX_NAME = 200


def may_deploy(person) -> bool:
    return bool(person and person.is_authenticated and person.office)


@bp.app_context_processor
def _rights():
    return {"may_deploy": may_deploy(current_user)}



@bp.route("/definitions")
@login_required
def definitions():
    everything = request.args.get("all") == "1"
    with current.engine().db.reader() as s:
        rows = definition_rows(s, all_versions=everything)
        # the reform office moves the plans still on an older version (office.migrate_many)
        behind = migration.behind(s) if current_user.office else {}
    return render_template("analyst_definitions.html", definitions=rows, everything=everything, behind=behind)


@bp.route("/definitions/<key>/v<int:version>/changes")
@login_required
def changes(key: str, version: int):
    """What version `version` of a process changed from the version before it."""
    try:
        with current.engine().db.reader() as s:
            result = between_versions(s, key, version)
    except (NotFound, Invalid):
        abort(404)
    return render_template("analyst_changes.html", process=result)


@bp.route("/definitions/<key>/v<int:version>/diagram")
@login_required
def diagram(key: str, version: int):
    """A deployed version's 流程图, no plan's states on it: to everyone signed in, as the list."""
    try:
        drawn = current.engine().definition_diagram(key, version)
    except (NotFound, Invalid):
        abort(404)
    return render_template("analyst_diagram.html", diagram=drawn)


@bp.route("/definitions/deploy", methods=["GET", "POST"])
@login_required
def deploy():
    if not may_deploy(current_user):
        abort(403)
    if request.method == "GET":
        return render_template("analyst_deploy.html")
    try:
        files = uploaded(request.files.getlist("files"))
    except Invalid as exc:
        flash(sentence(say(exc.message)), "error")
        return render_template("analyst_deploy.html"), 400
    with current.engine().db.reader() as s:  # against what is deployed before this deploy
        changed = against_deployed(s, files)
    stray = looks_changed_only(changed)
    if request.form.get("action") == "deploy":
        # errors first: a set deploy refuses anyway is not asked about
        if stray and not request.form.get("stray_confirmed") and not current.engine().deploy_errors(files):
            return _ask_first(files, changed, stray)
        return _deploy(files, changed)
    report = _check(files)
    return render_template("analyst_deploy.html", checked=[n for n, _ in files], problems=report.problems,
                           errors=len(report.errors), warnings=len(report.warnings),
                           lint=report.modeler_lint, changed=changed, stray=stray), 200


def _ask_first(files, changed: list[dict], stray: list[dict]):
    """Files that moved shapes only, or changed only a comment, would each become a new version
    though plans run as before: nothing is deployed until 仍部署为新版本 is ticked (the files are
    chosen again: an upload is never kept)."""
    flash(_("%(keys)s 只改了图形布局或注释，办理方式没有变化，部署会新增一个版本。均未部署：确要部署，请勾选“仍部署为新版本”，"
            "重新选择文件后再点“部署”。", keys=_("、").join(p["key"] for p in stray)), "error")
    # no 检查结果 section: nothing was checked, and "没有发现问题" would say it was
    return render_template("analyst_deploy.html", changed=changed, stray=stray), 200


def _check(files):
    """What `reformflow check` reports for these files, against the database's library and directory."""
    engine = current.engine()
    with engine.db.reader() as s:
        deployed, directory = latest_diagrams(s), directory_of(s)
    return check_files(files, deployed_keys=set(deployed), deployed_xml=[xml for _, xml in deployed.values()],
                       directory=directory)


def _deploy(files, changed: list[dict]):
    names = [n for n, _ in files]
    try:
        result = current.engine().deploy(files, actor=current_user.username)
    except Invalid as exc:
        if exc.details:  # the diagrams' errors: listed as check lists them, nothing deployed
            flash(ngettext("部署被拒绝：图中有 %(num)s 个错误，均未部署。", "部署被拒绝：图中有 %(num)s 个错误，均未部署。",
                           len(exc.details)), "error")
            return render_template("analyst_deploy.html", checked=names, problems=exc.details,
                                   errors=len(exc.details), warnings=0, lint=None, changed=changed), 400
        flash(sentence(say(exc.message)), "error")
        return render_template("analyst_deploy.html"), 400
    except ReformflowError as exc:
        flash(sentence(say(exc.message)), "conflict" if exc.kind == "conflict" else "error")
        return render_template("analyst_deploy.html"), status_of(exc)
    for d in result:
        if d["status"] == "unchanged":
            flash(_("%(key)s 与已部署的第 %(version)s 版内容相同，未改动。", key=d["key"], version=d["version"]), "ok")
        elif d["version"] == 1:
            flash(_("%(key)s 已部署为第 1 版。", key=d["key"]), "ok")
        else:
            flash(_("%(key)s 已部署为第 %(version)s 版；进行中的方案仍按原版本办理。", key=d["key"], version=d["version"]), "ok")
    warnings = [w for d in result for w in d["warnings"]]
    return render_template("analyst_deploy.html", deployed=result, checked=names, problems=warnings,
                           errors=0, warnings=len(warnings), lint=result[0]["modeler_lint"] if result else None,
                           changed=changed)


def uploaded(storages) -> list[tuple[str, bytes]]:
    """(name, bytes) of each uploaded .bpmn file, read no further than one byte past the size
    limit (parse_bpmn_bytes then names the file that is too large), or Invalid."""
    storages = [f for f in storages if f and f.filename]
    if not storages:
        raise Invalid("请选择要检查或部署的 .bpmn 文件 (choose the .bpmn files to check or deploy)")
    if len(storages) > MAX_FILES:
        raise Invalid(f"一次最多 {MAX_FILES} 个文件，本次 {len(storages)} 个 "
                      f"(at most {MAX_FILES} files at a time, {len(storages)} given)")
    files, seen = [], set()
    for f in storages:
        name = safe_name(f.filename)
        if name in seen:
            raise Invalid(f"{name}：同名文件选了两次 (“{name}”: the same file name was chosen twice)")
        seen.add(name)
        files.append((name, f.read(MAX_BYTES + 1)))
    return files


def safe_name(raw: str) -> str:
    """The file's own name, without any folder, as a label: never used as a path."""
    name = own_name(raw)
    if not name or first_hidden(name) is not None or len(name) > MAX_NAME:
        raise Invalid("文件名为空、过长或含有不可见字符，请改名后重新上传 "
                      "(the file name is empty, too long or has an invisible character: rename it)")
    if PurePosixPath(name).suffix.lower() != ".bpmn":
        raise Invalid(f"{name}：只接受 Camunda Modeler 保存的 .bpmn 文件 (“{name}”: only .bpmn files are accepted)")
    return name
