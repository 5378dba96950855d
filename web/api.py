"""The JSON API at /api/v1, for an office's other systems (its OA, a dashboard, a script): the
inbox and a task's form, claim, hand back and complete, a task's files (attach, list, download),
the plans one may see, starting one.

Authenticated by a personal access token only (`Authorization: Bearer rf_…`, made on
/account/tokens or by `reformflow tokens add`; engine/tokens.py), never by the browser's session
cookie: a request carrying only the cookie is refused like one carrying nothing, so no other site
can make a signed-in browser call the API, and the API needs no form token (CSRF-exempt). The
token acts as its owner with their rights as they are now (`Engine.token_user`).

Each endpoint is one call into the Engine, as the web page it mirrors makes it, with the same
rules of who may see what (web/access.py: a plan or task one may not see answers 404, as one
that does not exist); a change carries the version its client read, and one changed since is
409, never overwritten. Refusals are JSON, `{"error": kind, "message": ...}`, the message in the
request's language (`?lang=en`, else Accept-Language; Chinese by default). docs/api.md;
the OpenAPI document web/openapi.json is served at /api/v1/openapi.json.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, g, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine import channels, clock, planless, urging
from engine.commands import ASSIGNS_OFFICE_ONLY, ATTACHING, DRAFTING, STOPS_OFFICE_ONLY, business_key_form
from engine.documents import MAX_BYTES, MEDIA_TYPES
from engine.errors import Conflict, Forbidden, Invalid, NotFound, ReformflowError, Unauthorized
from engine.forms import refuse_surrogates
from engine.history import events_after, plan_history
from engine.ledger import COLOURS, due_on
from engine.overview import soon_by
from engine.plan_list import PAGE_SIZE as PLAN_PAGE, PLAN_STATUSES, count_plans, plan_rows
from engine.queries import ADMIN_GROUP, DONE, LISTS, count_listed, list_tasks
from engine.trail_text import said
from engine.visibility import AUDITOR_READS_ONLY, only_audits, sees_everything
from models import HumanTask, ProcessInstance

from . import i18n, input_guard, refusals, start_forms
from .api_form import typed_form
from .inbox import MAX_PAGE
from .row_ids import MAX_ID, NoSuchRow
from .access import may_see_plan, may_see_task, may_see_task_id
from .current import engine
from .downloads import attachment
from .office import ledger_filters
from .whole_numbers import whole_number

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
OPENAPI = Path(__file__).resolve().parent / "openapi.json"
# 401 invalid token, 403 not allowed, 404 not found or not to be seen, 409 changed meanwhile,
# 422 the request's values (a form's fields, a start's data) refused: say what to change
STATUS = {"unauthorized": 401, "invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 409,
          "unavailable": 503}
LANGUAGES = tuple(i18n.LANGUAGES)
LIMIT, MAX_LIMIT = 50, 200  # tasks a page, by default and at most
DUE_FILTERS = ("overdue", "soon")
_PUBLIC = {"api.openapi"}  # the description of the API needs no token: it holds nothing of anyone's
_CHALLENGE = 'Bearer realm="reformflow"'


# ------------------------------------------------------------------ answers
def language() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=i18n.DEFAULT) or i18n.DEFAULT


def say(message: str | None) -> str:
    """An engine message (`中文 (english)`) in the request's language."""
    zh, en = i18n.split(str(message or ""))
    return en if en is not None and language() == "en" else zh


def answer(data, status: int = 200, headers: dict | None = None) -> Response:
    _type_forms(data)
    body = json.dumps(data, ensure_ascii=False, default=_plain)
    return Response(body, status=status, headers=headers, mimetype="application/json")


def _type_forms(data) -> None:
    """Every task an answer embeds (a plan's open steps, what claim or complete did, the inbox's
    rows) with its form typed (web/api_form.py): here, where all of them pass, since the answers
    that built their own (start, plans, claim, …) gave the engine's raw form, `required: null`."""
    stack, seen = [data], set()
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and id(item) not in seen:  # one task held twice is typed once
            seen.add(id(item))
            form = item.get("form") if "element_id" in item else None
            if isinstance(form, list) and all(isinstance(f, dict) and "constraints" in f for f in form):
                item["form"] = typed_form(form)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def refusal(exc: ReformflowError, **more) -> Response:
    out = {"error": exc.kind, "message": say(exc.message)}
    if getattr(exc, "reason", None):  # a 409's case, for a program: docs/api.md section 5
        out["reason"] = exc.reason
    out |= more
    if exc.details:  # a form's problems, each at its field
        out["details"] = [dict(d, message=say(d.get("message"))) if isinstance(d, dict) else d for d in exc.details]
        if "：" in exc.message and all(isinstance(d, dict) and "field" in d for d in exc.details):
            out["message"] = _form_refusal(exc.message.split("：", 1)[0], out["details"])
    headers = {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'} if exc.kind == "unauthorized" else \
        {"Retry-After": refusals.RETRY_AFTER} if exc.kind == "unavailable" else None
    return answer(out, STATUS.get(exc.kind, 422), headers)


def _form_refusal(head: str, details: list[dict]) -> str:
    """A refused form's message in one language: "表单有误 (form data refused)：「…」…；「…」…" said
    whole is two languages in one, and its last bracket alone read "required" for every problem."""
    if i18n.current() == "en":
        return f"{say(head)}: " + "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return f"{say(head)}：" + "；".join(d["message"] for d in details)


def _not_found() -> Response:
    """A plan or task one may not see, or that does not exist: the same answer (web/access.py)."""
    return refusal(NotFound("找不到：它不存在，或您无权查看 (not found: it does not exist, or you may not see it)"))


def wants_json() -> bool:
    """Whether an error is the API's (web/error_pages.py asks): JSON, not the web's pages, for an
    address under /api/ that has no route, a wrong method, or a failure of ours."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def http_error(exc: HTTPException) -> Response:
    if isinstance(exc, NoSuchRow):  # an id past any row's in the address: as one that does not exist
        return _not_found()
    kind = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(exc.code, "invalid")
    messages = {404: "没有这个接口，见 /api/v1/openapi.json (no such endpoint: see /api/v1/openapi.json)",
                405: "此接口不接受该请求方法，见 /api/v1/openapi.json (method not allowed: see /api/v1/openapi.json)",
                413: "请求过大：正文至多 25 MB，附件至多 20 MB (request too large: a body has at most 25 MB, a file 20 MB)"}
    allowed = getattr(exc, "valid_methods", None)  # 405: what the address takes, as HTTP asks
    return answer({"error": kind, "message": say(messages.get(exc.code, f"{exc.code} {exc.name}"))}, exc.code,
                  {"Allow": ", ".join(sorted(allowed))} if allowed else None)


def server_error() -> Response:
    return answer({"error": "server_error", "message": say("系统出错，未做任何更改；请稍后重试 "
                                                           "(something went wrong on our side; nothing was changed)")}, 500)


# ------------------------------------------------------------------ who is asking
@bp.before_request
def _authenticate():
    """The token's owner in `g.api_user`, or 401. The session cookie is never looked at."""
    if request.endpoint in _PUBLIC:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return answer({"error": "unauthorized", "message": say(
            "需要访问令牌：请在请求头中加入 Authorization: Bearer <密钥>，令牌在网页「访问令牌」中创建 "
            "(an access token is needed: send Authorization: Bearer <secret>; create one on the web page "
            "\"Access tokens\")")}, 401, {"WWW-Authenticate": _CHALLENGE})
    try:
        g.api_user = engine().token_user(secret.strip(), address=request.remote_addr)
    except Unauthorized as exc:
        return refusal(exc)
    return None


# the query parameters each endpoint reads (besides `lang`): any other is refused, 422, so a
# misspelt filter (`colour` as `color`) is not silently ignored
QUERY = {"api.tasks": ("scope", "q", "due", "step", "limit", "offset"),
         "api.plans": ("status", "q", "page", "limit", "offset"),
         "api.ledger": ("year", "status", "colour", "unit", "process", "limit", "offset"),
         "api.stats": ("since", "until", "process"),
         "api.history": ("after",),
         "api.events": ("after", "limit"),
         "api.comments": ("after",),
         "api.audit_events": ("type", "since", "until", "before", "limit")}


@bp.before_request
def _known_parameters():
    if request.endpoint is None or request.endpoint in _PUBLIC:
        return None
    unknown = sorted(set(request.args) - {"lang", *QUERY.get(request.endpoint, ())})
    if unknown:
        known = ", ".join(("lang", *QUERY.get(request.endpoint, ())))
        raise Invalid(f"不认识的查询参数：{'、'.join(unknown)}；此接口接受 {known} "
                      f"(unknown query parameter: {', '.join(unknown)}; this endpoint takes {known})")
    return None


@bp.errorhandler(ReformflowError)
def _refused(exc: ReformflowError):
    return refusal(exc)


def me():
    return g.api_user


def _body() -> dict:
    """The request's JSON object (an empty body is an empty object), or Invalid."""
    # a form's body was read as one already (input_guard): it is no longer there to see
    sent_form = bool(request.form or request.files)
    if not sent_form and not request.get_data():
        return {}
    try:
        data = None if sent_form else request.get_json(silent=True)
    except RecursionError:  # nested a thousand deep: Python's JSON reader gives out, not a 500
        data = None
    if not isinstance(data, dict):
        raise Invalid("请求正文须为 JSON 对象，Content-Type: application/json "
                      "(the request body must be a JSON object, Content-Type: application/json)")
    input_guard.check_json(data)
    refuse_surrogates(data)  # a lone "\ud800": refused here, where every body enters, naming its field
    return data


def _version(body: dict, *, required: bool = False) -> int | None:
    version = body.get("version")
    if version is None and not required:
        return None
    if isinstance(version, bool) or not isinstance(version, int):
        given = "" if version is None else f"，而不是 {json.dumps(version, ensure_ascii=False)[:20]}"
        given_en = "" if version is None else f", not {json.dumps(version)[:20]}"
        raise Invalid(f"须提供 version：读取任务时得到的版本号（整数）{given} "
                      f"(give version: the whole number the task had when you read it{given_en})")
    return version


# ------------------------------------------------------------------ endpoints
@bp.get("/openapi.json")
def openapi():
    return Response(OPENAPI.read_bytes(), mimetype="application/json")


@bp.get("/me")
def whoami():
    user = me()
    return answer({"username": user.username, "display_name": user.display_name, "unit": user.unit,
                   "groups": list(user.group_codes), "office": "reform_office" in user.group_codes,
                   "token": {"id": user.token_id, "name": user.token_name, "expires_at": user.token_expires_at}})


@bp.get("/delegations")
def delegations():
    """委托办理: the owner's delegations, given and received (Engine.delegations)."""
    return answer({"delegations": engine().delegations(me().username)})


@bp.get("/tasks")
def tasks():
    """The inbox, as /tasks lists it (engine/queries.py list_tasks): mine, claimable, all (the
    default) or done, a page at a time, optionally only those whose plan or step contains `q`."""
    scope = request.args.get("scope", "all")
    if scope not in LISTS:
        raise Invalid(f"scope 须为 {'、'.join(LISTS)} 之一 (scope must be one of {', '.join(LISTS)})")
    due = request.args.get("due") or None
    if due not in (None, *DUE_FILTERS) or (due == "soon" and scope == DONE):
        raise Invalid("due 须为 overdue（已逾期）或 soon（5 个工作日内到期，不用于 done） "
                      "(due must be overdue, or soon: due within 5 working days, not with done)")
    limit = _whole("limit", LIMIT, least=1, most=MAX_LIMIT)
    offset = _whole("offset", 0, least=0, most=MAX_ID)
    text = _searched()
    step = request.args.get("step", "").strip() or None  # one diagram element's tasks: Task_FileDocument
    now = clock.now()
    with engine().db.reader() as s:
        # as the inbox's 只看已逾期 (done: completed after their deadline) and 只看即将到期
        overdue_at = now if due == "overdue" else None
        window = (now, soon_by(s.connection(), now)) if due == "soon" else None
        rows = list_tasks(s, me().username, scope, overdue_at=overdue_at, text=text, limit=limit, offset=offset,
                          due_between=window, step=step)
        total = count_listed(s, me().username, scope, overdue_at=overdue_at, text=text, due_between=window,
                             step=step)
        marks = urging.urged(s, [r["id"] for r in rows])
    for row in rows:
        _as_listed(row, marks.get(row["id"]), now)
    return answer({"scope": scope, "q": text, "due": due, "step": step, "limit": limit, "offset": offset, "total": total,
                   "tasks": rows})


def _as_listed(row: dict, urged: dict | None, now: datetime) -> dict:
    """A task as the API gives it, in a list or alone (its form typed by `answer`): `urged`
    (催办: how often and when last, or null), `overdue` (a done one: completed after its deadline)
    and `due_on`, the Beijing date its deadline runs to (a deadline is the next midnight, Beijing)."""
    row["urged"] = urged
    ends = datetime.fromisoformat(row["completed_at"]) if row["completed_at"] else now
    # judged by its first deadline when a later one was ordered (限期报送): judged_due_at
    row["overdue"] = bool(row["judged_due_at"]) and datetime.fromisoformat(row["judged_due_at"]) <= ends
    row["due_on"] = due_on(row["due_at"])
    return row


def _searched() -> str | None:
    """`q` as typed, trimmed, or None."""
    return request.args.get("q", "").strip() or None


def _whole(name: str, default: int, *, least: int, most: int | None = None) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw)
    if number is None or number < least or (most is not None and number > most):
        top = f"至 {most} " if most is not None else "以上"
        raise Invalid(f"{name} 须为 {least} {top}的整数 ({name} must be a whole number from {least}"
                      f"{f' to {most}' if most is not None else ''})")
    return number


def _visible_task(task_id: int) -> dict | None:
    try:
        view = engine().task_view(task_id)
    except NotFound:
        return None
    return view if may_see_task(engine(), me(), view) else None


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    """A task as its page shows it: its form's fields (`form`, as the diagram declares them), the
    values they start from, today's bounds, its files, and the `version` to send back."""
    view = _visible_task(task_id)
    if view is None:
        return _not_found()
    with engine().db.reader() as s:  # as its row in the inbox says them, for the token's owner
        listed = {r["id"]: r for r in list_tasks(s, me().username, "all", instance_id=view["instance_id"])}
        marks = urging.urged(s, [task_id])
    row = listed.get(task_id, {})
    view |= {"may_claim": row.get("may_claim", False), "on_behalf_of": row.get("on_behalf_of")}
    return answer(_as_listed(view, marks.get(task_id), clock.now()))


def _act(task_id: int, action, status: int = 200, *, claiming: bool = False, may=None) -> Response:
    """One action on a task: who may before what was sent. A task one may not see is 404 before
    its body is read (`action` reads it); a request refused for what it sent (422) is first put to
    `may`, which refuses (403, 409) a caller who may not act on the task at all, whatever they sent."""
    if not may_see_task_id(engine(), me(), task_id):
        return _not_found()
    try:
        try:
            result = action()
        except Invalid:
            if may is not None:
                may()
            raise
    except NotFound:
        return _not_found()
    except Conflict as exc:
        return _task_conflict(exc, task_id, claiming)
    return answer(result, 200 if result.get("repeated") else status)  # a retry made nothing new


def _task_conflict(exc: Conflict, task_id: int, claiming: bool) -> Response:
    """A 409 on a task with the task as it is now (`status`, `assignee`, `version`), so a client
    retrying after a lost answer can tell its own first try (`already_yours`) from someone else's."""
    with engine().db.reader() as s:
        now = s.get(HumanTask, task_id)
        state = {"status": now.status, "assignee": now.assignee, "version": now.version} if now else {}
    if claiming and exc.reason == "stale" and state.get("status") == "claimed" and state["assignee"] == me().username:
        exc.reason = "already_yours"  # the first claim went in; its answer was lost
    return refusal(exc, **state)


def _office_only(refusal: str) -> None:
    """What only the reform office does: anyone else is refused (403) as the engine refuses them,
    before anything they sent is looked at."""
    if ADMIN_GROUP not in me().group_codes:
        raise Forbidden(refusal)


def _holder_only(task_id: int, doing: tuple[str, str, str, str]):
    """A `may` for what only a step's holder does (attach, save a draft): the engine's refusal."""
    return lambda: engine().check_holding(task_id, actor=me().username, doing=doing)


def _may_complete(task_id: int) -> None:
    """Complete's refusals of who may (not the holder, not claimed, done or stopped), its form aside."""
    try:
        engine().check_complete(task_id, actor=me().username)
    except Invalid:  # the form's fields: what was sent, not who may
        pass


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    return _act(task_id, lambda: engine().claim(task_id, actor=me().username, expected_version=_version(_body())),
                claiming=True)


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    return _act(task_id, lambda: engine().unclaim(task_id, actor=me().username, expected_version=_version(_body())))


@bp.post("/tasks/<int:task_id>/assign")
def assign(task_id: int):
    """指派, the reform office only: `{"to": "user", "version": n, "reassign": false}`, as the task
    page's 指派 does; a task someone else holds is taken from them only with `"reassign": true`."""
    def action():
        _office_only(ASSIGNS_OFFICE_ONLY)
        body = _body()
        to, reassign = body.get("to"), body.get("reassign", False)
        if not isinstance(to, str) or not to.strip():
            raise Invalid("须提供 to：接办人的用户名 (give to: the user name of whom to assign it to)")
        if not isinstance(reassign, bool):
            raise Invalid("reassign 须为 true 或 false (reassign must be true or false)")
        return engine().assign(task_id, to=to.strip(), actor=me().username, expected_version=_version(body),
                               reassign=reassign)
    return _act(task_id, action)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    """Submit the task's form: `{"data": {...}, "comment": "...", "version": n}`. The version is
    required: a task changed since it was read (handed back, reassigned, done) is 409."""
    def action():
        body = _body()
        data = body.get("data")
        data = {} if data is None else data  # [] is no form ([] or {} both read as empty before)
        if not isinstance(data, dict):
            raise Invalid("data 须为 JSON 对象：字段编号 → 值 (data must be a JSON object: field id → value)")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise Invalid("comment 须为文字 (comment must be a string)")
        return engine().complete(task_id, actor=me().username, data=data,
                                 expected_version=_version(body, required=True), comment=comment)
    return _act(task_id, action, may=lambda: _may_complete(task_id))


@bp.post("/tasks/<int:task_id>/files")
def attach(task_id: int):
    """Attach a file to a task one holds, before completing it, as 仅上传所选附件 does: the body is
    multipart/form-data with the file in the part named `file`. The task's version is unchanged,
    so a complete that follows with the version read before is not refused."""
    def action():
        upload = request.files.get("file")
        if upload is None and request.mimetype == "multipart/form-data" and request.content_length \
                and not request.files and not request.form:
            # werkzeug drops a body whose part headers are not UTF-8 whole, the file's name with it
            raise Invalid("附件无法读取：文件名不是 UTF-8 编码，请改名后重新上传 "
                          "(the file could not be read: its name is not UTF-8: rename it and upload again)")
        if upload is None or not upload.filename:
            raise Invalid("请以 multipart/form-data 上传，文件放在名为 file 的部分 "
                          "(send multipart/form-data with the file in the part named file)")
        # after=0: the same file sent again by the same person to the same task (a retry whose
        # answer was lost) is the first, `repeated`, 200; files are never deleted
        content = upload.read()
        if len(content) > MAX_BYTES:  # as a body over 25 MB is: one status for "too large"
            raise RequestEntityTooLarge()
        return engine().attach(task_id, upload.filename, content, actor=me().username, after=0)
    return _act(task_id, action, 201, may=_holder_only(task_id, ATTACHING))


@bp.get("/tasks/<int:task_id>/draft")
def draft(task_id: int):
    """暂存: the caller's draft of a task still open, `{"draft": {"values", "comment", "saved_at"}}`,
    or `{"draft": null}`."""
    return _act(task_id, lambda: {"draft": engine().draft(task_id, actor=me().username)})


@bp.put("/tasks/<int:task_id>/draft")
def save_draft(task_id: int):
    """暂存: `{"values": {field id: text or true/false}, "comment": "..."}` kept as the caller's
    draft of a task they hold, replacing the earlier one, as the page's 暂存 does; not checked
    against the form's rules (the submission is). The task's version is unchanged. Answers
    `{"draft": {...}}`, as GET does."""
    def action():
        body = _body()
        values, comment = body.get("values") or {}, body.get("comment") or ""
        if not isinstance(comment, str):
            raise Invalid("comment 须为文字 (comment must be a string)")
        # in an object, as GET answers it
        return {"draft": engine().save_draft(task_id, values, actor=me().username, comment=comment)}
    return _act(task_id, action, may=_holder_only(task_id, DRAFTING))


@bp.get("/plans/<int:instance_id>/files")
def files(instance_id: int):
    """A plan's files, oldest first, without their content (each with its SHA-256)."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    return answer({"files": engine().documents(instance_id)})


@bp.get("/plans/<int:instance_id>/files/<int:document_id>")
def file(instance_id: int, document_id: int):
    """A file's content, as uploaded (checked against its SHA-256 first), as a download."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    try:
        meta, content = engine().document(document_id)
    except NotFound:
        return _not_found()
    if meta["instance_id"] != instance_id:  # another plan's file: as if it did not exist
        return _not_found()
    media_type = meta["media_type"] if meta["media_type"] in MEDIA_TYPES.values() else "application/octet-stream"
    suffix = PurePosixPath(meta["file_name"]).suffix.lower()
    return attachment(content, media_type, meta["file_name"], fallback=f"document-{document_id}{suffix}")


@bp.post("/tasks/<int:task_id>/urge")
def urge(task_id: int):
    """催办 (engine/urging.py): `{"note": "..."}`, the reform office only; the same note again within
    a minute is the urge already sent (`"repeated": true`)."""
    def action():
        _office_only(urging.OFFICE_ONLY)
        note = _body().get("note")
        if note is not None and not isinstance(note, str):
            raise Invalid("note 须为文字 (note must be a string)")
        return urging.urge(engine(), task_id, actor=me().username, note=note)
    return _act(task_id, action)


@bp.post("/tasks/urge")
def urge_many():
    """催办所选: `{"task_ids": [n, ...], "note": "..."}`, the reform office only, in one transaction:
    `{"urged": [...], "skipped": [{"task_id", "name", "reason"}]}`, a task done meanwhile
    skipped (`reason`: its status, or `not_found`), at most 200."""
    _office_only(urging.OFFICE_ONLY)  # who may before what was sent: 403 for anyone else
    body = _body()
    task_ids, note = body.get("task_ids"), body.get("note")
    if not isinstance(task_ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in task_ids):
        raise Invalid("task_ids 须为整数列表 (task_ids must be a list of whole numbers)")
    if note is not None and not isinstance(note, str):
        raise Invalid("note 须为文字 (note must be a string)")
    return answer(urging.urge_many(engine(), task_ids, actor=me().username, note=note))


@bp.get("/stats")
def stats():
    """How long each step takes (办理时效统计, engine/step_times.py), the reform office only:
    `since`, `until` (dates, both included; by default this calendar year), `process` (a key)."""
    return answer(engine().step_times(me().username, since=request.args.get("since") or None,
                                      until=request.args.get("until") or None,
                                      process=request.args.get("process") or None))


@bp.get("/overview")
def overview():
    """工作台 (engine/overview.py), the reform office only: this year's ledger in colours, the open
    steps overdue and due within 5 working days, the units with the most overdue steps, open
    filings, the tasks the caller may claim, the rectifications open, and the years deadlines reach
    that the working-day calendar does not know, as of now."""
    return answer(engine().overview(me().username))


@bp.get("/ledger")
def ledger():
    """台账, the reform office only, as its page filters it: `year` (a year, or `all`; by default
    this year, Beijing), `status`, `colour`, `unit`, `process`. Each plan with its lead unit,
    milestone, current steps, missed deadlines, colour and `carried_over` (结转); `limit` (50)
    from `offset` in the ledger's order (red, yellow, green, each by plan id), as /plans pages,
    with `total` and `counts` (by colour) of the whole ledger so filtered."""
    if ADMIN_GROUP not in me().group_codes:
        raise Forbidden("只有改革办可以查看台账 (only the reform office may read the ledger)")
    filters = ledger_filters()
    limit = _whole("limit", PLAN_PAGE, least=1, most=MAX_LIMIT)
    offset = _whole("offset", 0, least=0, most=MAX_ID)
    rows = engine().ledger(**filters)
    shown = rows[offset:offset + limit]
    for step in (step for row in shown for step in row["current"]):
        step["due_on"] = due_on(step["due_at"])  # the Beijing date, as /overview says it
    return answer({"year": filters["year"], "limit": limit, "offset": offset, "total": len(rows),
                   "more": offset + limit < len(rows),
                   "counts": {colour: sum(r["colour"] == colour for r in rows) for colour in COLOURS},
                   "plans": shown})


@bp.get("/plans")
def plans():
    """The plans one may see (as /plans lists them), newest first (started, then id), `limit`
    (50) from `offset` as /tasks pages, or 50 a `page` as the web page does."""
    status = request.args.get("status", "") or None
    if status is not None and status not in PLAN_STATUSES:
        raise Invalid(f"status 须为 {'、'.join(PLAN_STATUSES)} 之一 (status must be one of {', '.join(PLAN_STATUSES)})")
    if request.args.get("page") and request.args.get("offset"):
        raise Invalid("page 与 offset 只能给一个 (give page or offset, not both)")
    page = _whole("page", 1, least=1, most=MAX_PAGE)
    limit = _whole("limit", PLAN_PAGE, least=1, most=MAX_LIMIT)
    offset = _whole("offset", (page - 1) * limit, least=0, most=MAX_ID)
    text = _searched()
    with engine().db.reader() as s:
        rows, more = plan_rows(s, me(), status=status, text=text or "", limit=limit, offset=offset)
        total = count_plans(s, me(), status=status, text=text or "")
    for row in rows:
        for task in row["tasks"]:
            task["due_on"] = due_on(task["due_at"])
    return answer({"page": page, "limit": limit, "offset": offset, "total": total, "more": more, "plans": rows})


@bp.get("/plans/<int:instance_id>")
def plan(instance_id: int):
    """A plan one may see: where it stands, its open tasks, its variables and its comments."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    return answer({**engine().instance(instance_id), "comments": engine().comments(instance_id)})


@bp.post("/plans/<int:instance_id>/stop")
def stop(instance_id: int):
    """终止方案, the reform office only: `{"reason": "..."}`, as the plan page's 终止 does; its open
    steps are withdrawn (`withdrawn`) and the reason goes on the trail."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    _office_only(STOPS_OFFICE_ONLY)
    reason = _body().get("reason")
    if not isinstance(reason, str):
        raise Invalid("须提供 reason：终止理由 (give reason: why the plan is stopped)")
    try:
        return answer(engine().cancel_plan(instance_id, reason=reason, actor=me().username))
    except NotFound:
        return _not_found()


@bp.get("/processes")
def processes():
    """What the caller may start, as the start page (/plans/new) offers it: each process's latest
    version with its start form (typed as a task's) and, for a round of reports, the start
    variable listing its reporting bodies."""
    offered = [p for p in start_forms.processes(engine()) if start_forms.offered(p) and start_forms.may_start(p, me())]
    return answer({"processes": [{"key": p["key"], "version": p["version"], "name": p["name"],
                                  "form": typed_form(p["form"]), "reporting_bodies": p["reporting_bodies"]}
                                 for p in offered]})


@bp.get("/plans/<int:instance_id>/history")
def history(instance_id: int):
    """A plan's trail (办理经过), oldest first, as its page shows it: each audit event with who
    acted by name, the task, what a form said under its labels, and `said`, the line the page
    writes, in the request's language."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    after = _whole("after", 0, least=0, most=MAX_ID)  # a client keeping in step: only what is newer
    with engine().db.reader() as s:
        trail = plan_history(s, instance_id)
    trail["events"] = [e | {"said": said(e, language()), "via": channels.said(e["channel"], e["token_id"], language())}
                       for e in trail["events"] if e["seq"] > after]
    return answer(trail)


@bp.get("/events")
def events():
    """What happened in every plan the caller may see, oldest first (a client keeping its own copy
    in step polls with `after` = the `next_after` it was given): at most `limit` (50) events, each
    said as a plan's history says it, with its plan's id, title and business key."""
    after = _whole("after", 0, least=0, most=MAX_ID)
    limit = _whole("limit", LIMIT, least=1, most=MAX_LIMIT)
    with engine().db.reader() as s:
        feed = events_after(s, me(), after, limit)
    for e in feed["events"]:
        e["said"] = said(e, language())
        e["via"] = channels.said(e["channel"], e["token_id"], language())
    return answer(feed)


@bp.get("/audit/events")
def audit_events():
    """The events of no plan, newest first (engine/planless.py), for auditors and the reform office:
    `type`, `since`, `until` (Beijing dates), `before` (the `next_before` of the page before), `limit`."""
    if not sees_everything(me()):
        raise Forbidden("只有审计人员和改革办可以查阅不属于方案的事件 "
                        "(only auditors and the reform office read the events of no plan)")
    filters = planless.checked_filters(request.args.get("type"), request.args.get("since"), request.args.get("until"),
                                       request.args.get("before"), request.args.get("limit"))
    with engine().db.reader() as s:
        found = planless.planless_events(s, **filters)
    for e in found["events"]:
        e["said"] = said(e, language())
        e["via"] = channels.said(e["channel"], e["token_id"], language())
    return answer(found)


@bp.get("/plans/<int:instance_id>/comments")
def comments(instance_id: int):
    """留言, oldest first, as the plan's page lists them; `after` (a comment id): only newer ones."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    after = _whole("after", 0, least=0, most=MAX_ID)
    return answer({"comments": [c for c in engine().comments(instance_id) if c["id"] > after]})


@bp.post("/plans/<int:instance_id>/comments")
def add_comment(instance_id: int):
    """留言: `{"text": "...", "task_id": n, "after": n}`, as the plan's and the task's pages add
    one; `task_id` (optional) says which of its tasks it is about; `after` (optional), the
    newest comment id the client has seen: the same text sent again since returns the first,
    `"repeated": true`, and adds nothing (a retry after a lost answer)."""
    if not may_see_plan(engine(), me(), instance_id):
        return _not_found()
    if only_audits(me()):  # who may before what was sent, as the engine refuses them
        raise Forbidden(AUDITOR_READS_ONLY)
    body = _body()
    text = body.get("text")
    if not isinstance(text, str):
        raise Invalid("须提供 text：留言的文字 (give text: the comment)")
    task_id, after = body.get("task_id"), body.get("after")
    for name, value in (("task_id", task_id), ("after", after)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise Invalid(f"{name} 须为整数 ({name} must be a whole number)")
    try:
        added = engine().comment(instance_id, text, actor=me().username, task_id=task_id, after=after)
    except NotFound:
        return _not_found()
    return answer(added, 200 if added.get("repeated") else 201)


@bp.post("/plans")
def start():
    """Start a plan: `{"key": ..., "title": ..., "business_key": ..., "data": {...}}`, as the
    start page does (the process's starters, its start form)."""
    body = _body()
    key, data = body.get("key"), body.get("data")
    data = {} if data is None else data
    if not isinstance(key, str) or not key.strip():
        raise Invalid("须提供 key：流程的编号，如 reform_plan (give key: the process's key, e.g. reform_plan)")
    if not isinstance(data, dict):
        raise Invalid("data 须为 JSON 对象 (data must be a JSON object)")
    texts = {name: body.get(name) for name in ("title", "business_key")}
    if any(v is not None and not isinstance(v, str) for v in texts.values()):
        raise Invalid("title 和 business_key 须为文字 (title and business_key must be strings)")
    business_key = (texts["business_key"] or "").strip() or None
    try:
        created = engine().start(key.strip(), actor=me().username, data=data,
                                 title=(texts["title"] or "").strip() or None, business_key=business_key)
    except Conflict as exc:
        return _key_in_use(exc, business_key)
    except NotFound:  # the engine's message names a command an API client cannot run
        raise NotFound(f"流程 {key.strip()} 不存在；可发起的流程见 GET {PREFIX}/processes "
                       f"(no process with key {key.strip()}: GET {PREFIX}/processes lists what you may start)") from None
    return answer(created, 201, {"Location": f"{PREFIX}/plans/{created['id']}"})


def _key_in_use(exc: Conflict, business_key: str | None) -> Response:
    """A business key is unique across the system: a start retried after a lost answer finds
    its own plan here (`instance_id`); a plan the caller may not see is not named."""
    if exc.reason != "business_key_used":
        return refusal(exc)
    with engine().db.reader() as s:
        found = s.execute(select(ProcessInstance.id).where(
            ProcessInstance.business_key == business_key_form(business_key))).scalar()
    seen = found is not None and may_see_plan(engine(), me(), found)
    return refusal(exc, **({"instance_id": found} if seen else {}))
