"""The reform office's import of people (/people/import): a spreadsheet of its staff uploaded,
checked and shown row by row (the dry run: who will be added, who changed, every row refused with
its row and column), then entered with one more click, all or nothing (Engine.import_users, as
`reformflow users import`); and the template to fill in.

The confirmation takes the same file again: the file may hold initial passwords, which the server
keeps nowhere between the two requests and never writes back into a page. The preview's page
carries a signature (HMAC under the application's secret) of the file and of whom it would add
and change how; the confirmation checks the file chosen again, and what it would do now, against
it, so that nothing is imported that the preview did not show (a colleague's change meanwhile),
and the page holds no plain hash of a file with passwords in it to guess them against.
"""
from __future__ import annotations

import hashlib
import hmac
import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import passwords, user_file, user_import
from engine.errors import Invalid, ReformflowError

from .current import engine
from .downloads import attachment
from .office import office_only
from .refusals import refused

bp = Blueprint("people_import", __name__)
# Each initial password is hashed as `users add` hashes one, some 75 ms by design (more on a busy
# server): a request with hundreds would outlast gunicorn's --timeout 60 (docs/operations.md).
MAX_PASSWORDS = 100
_MEDIA = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".csv": "text/csv"}


@bp.route("/people/import", methods=["GET", "POST"])
@login_required
def import_people():
    if (refusal := office_only()) is not None:
        return refusal
    form = request.form
    update = form.get("update") == "on"

    def page(result: dict | None = None, digest: str = "", problems: list | None = None):
        return render_template("people_import.html", groups=engine().groups(), result=result, digest=digest,
                               update=update, problems=problems if problems is not None else
                               (result or {}).get("refused", []), max_rows=user_file.MAX_ROWS,
                               max_mb=user_file.MAX_BYTES // 1024 // 1024, min_length=passwords.MIN_LENGTH)
    if request.method == "GET":
        return page()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid(_("请选择要导入的 Excel（.xlsx）或 CSV 文件。"))
        content = upload.read(user_file.MAX_BYTES + 1)
        people = user_file.read(upload.filename, content)
        if (given := sum(bool(row.cells.get("password")) for row in people.rows)) > MAX_PASSWORDS:
            raise Invalid(_("文件有 %(n)s 个初始密码，网页上每次最多 %(most)s 个（设置每个密码需约 0.1 秒）：请分成几个文件导入，"
                            "或由运维人员用命令行 reformflow users import 导入。", n=given, most=MAX_PASSWORDS))
        preview = engine().import_users(people, actor=current_user.username, update=update, dry_run=True)
        digest = _signed(content, preview)
        if form.get("action") != "import":
            return page(preview, digest)
        if not hmac.compare_digest(form.get("previewed", ""), digest):
            raise Invalid(_("所选文件或它将添加、修改的用户与刚才预览的不同，未导入任何用户；请重新预览此文件。"))
        result = engine().import_users(people, actor=current_user.username, update=update)
    except ReformflowError as exc:
        if exc.details:  # rows refused at the import itself (changed since the preview): listed as in the preview
            flash(_("文件中有 %(n)s 处错误，未导入任何用户。", n=len(exc.details)), "error")
            return page(problems=exc.details), 400
        return refused(exc, page)
    without = sum(not a["password"] for a in result["added"])
    flash(_("已导入：添加 %(added)s 个用户，修改 %(changed)s 个，%(same)s 个不变。", added=len(result["added"]),
            changed=len(result["changed"]), same=len(result["unchanged"])), "ok")
    if without:
        flash(_("其中 %(n)s 个新用户尚无密码，还不能登录网页待办：请在其页面重设密码，当面或经安全渠道告知本人。", n=without), "ok")
    return redirect(url_for("people.people"))


def _signed(content: bytes, preview: dict) -> str:
    """The preview's signature: the file, and whom it adds and changes how."""
    secret = current_app.secret_key
    shown = json.dumps([hashlib.sha256(content).hexdigest(), user_import.plan_key(preview)],
                       ensure_ascii=False, sort_keys=True, default=str)
    return hmac.new(secret.encode() if isinstance(secret, str) else secret, shown.encode(), hashlib.sha256).hexdigest()


@bp.route("/people/import/template.<fmt>")
@login_required
def template(fmt: str):
    """The template: the heading and one example row, as .xlsx or .csv."""
    if (refusal := office_only()) is not None:
        return refusal
    kind = f".{fmt}"
    if kind not in _MEDIA:
        return render_template("office_refused.html", message=_("模板只能下载为 .xlsx 或 .csv。")), 404
    return attachment(user_file.template(kind), _MEDIA[kind], f"用户导入模板{kind}", f"users-template{kind}")
