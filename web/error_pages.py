"""Error pages in the page's language that say what to do, instead of Werkzeug's English
one-liners (the JSON API's answers in JSON, web/api.py): a form sent after the session expired, a page that does not exist or may not be
seen, a file too big, a failure of ours."""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import api, signed_out
from .back import openable
from .refusals import back_or


def _page(status: int, title: str, advice: str):
    back = back_or(None)
    return render_template("error.html", status=status, title=title, advice=advice, back=back), status


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _expired(_exc):
        # the form's token is missing or older than the session: nothing was done; nobody
        # signed in any more (the session gone with the server's key): said as signing out is
        if not current_user.is_authenticated and (answer := signed_out.refused_form()) is not None:
            return answer
        return _page(400, _("页面已过期，未做任何更改"), _("请返回上一页，刷新后再提交一次。"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if api.wants_json():
            return api.http_error(exc)
        if exc.code == 404:  # the same page as a plan or task one may not see (web/access.py)
            from .access import not_yours
            return not_yours()
        if exc.code == 403:
            return _page(403, _("您没有权限做这件事"), _("如需办理，请联系改革办为您开通相应角色。"))
        if exc.code == 413:
            return _page(413, _("上传的文件太大"), _("每个附件不超过 20 MB；请压缩或拆分后再上传。"))
        if exc.code == 405:
            asked = request.full_path.rstrip("?")
            if request.method == "GET" and (page := openable(asked)) != asked:
                # an address only a form posts to (a `next` of old, a bookmark): the page it belongs to
                flash(_("该地址只能由页面上的按钮提交，已为您打开相应的页面。"), "error")
                return redirect(page)
            return _page(405, _("不能这样打开这个地址"), _("请从页面上的按钮或链接进入。"))
        return exc  # the rest as Werkzeug renders them

    @app.errorhandler(500)
    def _ours(_exc):
        if api.wants_json():
            return api.server_error()
        return _page(500, _("系统出错，未做任何更改"), _("请稍后重试；如仍出错，请把出错的时间告诉系统管理员。"))
