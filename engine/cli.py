"""The `reformflow` command line: one engine call per command, `--json` for scripts.

Refused actions exit non-zero with one line on stderr; with --json they also print
{"error": kind, "message": ...} on stdout. Exit codes: 3 invalid, 4 forbidden, 5 not found,
6 conflict, 7 unauthorized (an API token refused; 2 stays click's usage error).
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from . import clock, display
from .click_zh import use_chinese
from .errors import ReformflowError
from .output import whole_file
from .workdays import gap_warning

use_chinese()  # before the options below are built: a path option names its kind when declared

EXIT_CODES = {"invalid": 3, "forbidden": 4, "not_found": 5, "conflict": 6, "unauthorized": 7}


class BadValue(click.BadParameter):
    """A bad option or argument value, said like every refusal: Chinese first, English in brackets."""

    def __init__(self, zh: str, en: str, ctx=None, param=None, param_hint=None):
        super().__init__(en, ctx, param, param_hint)
        self.zh = zh

    def format_message(self) -> str:
        hint = self.param.get_error_hint(self.ctx) if self.param is not None and self.ctx is not None \
            else self.param_hint or "value"
        return f"{hint} 取值无效：{self.zh} (invalid value for {hint}: {self.message})"


class _SaysWhatIsAllowed:
    """For click's range types: the refusal says in Chinese what is allowed."""

    def __init__(self, low, high, zh: str):
        super().__init__(low, high)
        self.zh = zh

    def fail(self, message, param=None, ctx=None):
        # click's message comes from the catalogue as "中文 (English)."; the gloss wants the English
        zh, bracket, en = message.rstrip(".").partition(" (")
        english = en[:-1] if bracket and en.endswith(")") and not zh.isascii() else message.rstrip(".")
        raise BadValue(self.zh, english, ctx, param)


class IntRange(_SaysWhatIsAllowed, click.IntRange):
    pass


class FloatRange(_SaysWhatIsAllowed, click.FloatRange):
    pass


# Row ids are INTEGER columns: PostgreSQL's end at 2**31 - 1 (a bigger number fails the query
# there, and beyond 2**63 - 1 SQLite cannot even bind it).
ID = IntRange(1, 2**31 - 1, f"编号须为 1 至 {2**31 - 1} 之间的整数")
YEARS = clock.YEARS  # calendar years and the engine clock, as every command takes them
YEAR = IntRange(*YEARS, f"年份须在 {YEARS[0]} 至 {YEARS[1]} 之间")


class BusinessKey(str):
    """A plan named by its business key (DT-2015-04) on the command line, found when the command runs."""


class PlanId(int):
    """A plan named by its id on the command line, looked up when the command runs: a filter such
    as `audit export --instance 99` would otherwise answer an unknown plan with nothing."""


class PlanParam(click.ParamType):
    """A plan: its id, or its business key (a key that is a whole number is read as an id)."""
    name = "PLAN"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or re.fullmatch(r"\s*[+-]?\d+\s*", str(value)):
            return PlanId(ID.convert(value, param, ctx))
        return BusinessKey(str(value).strip())


PLAN = PlanParam()


def _plan_id(state, value):
    """A plan given by its id or business key, turned into the id of a plan that exists; anything
    else as it is."""
    if not isinstance(value, (BusinessKey, PlanId)):
        return value
    from sqlalchemy import select

    from models import ProcessInstance

    from .errors import NotFound
    if isinstance(value, PlanId):
        with state.db.reader() as s:
            found = s.execute(select(ProcessInstance.id).where(ProcessInstance.id == int(value))).scalar()
        if found is None:
            raise NotFound(f"方案实例 {value} 不存在 (no such instance)")
        return found
    with state.db.reader() as s:
        found = s.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == value)).scalar()
    if found is None:
        raise NotFound(f"没有业务编号为 {value} 的方案 (no plan with business key {value})")
    return found


class State:
    def __init__(self, db_url: str | None):
        self.db_url = db_url
        self.create = False  # only init creates a database (a SQLite file); the others refuse a missing one
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            from sqlalchemy.exc import ArgumentError

            from models.db import Database

            from .commands import Engine
            from .errors import Invalid
            try:
                database = Database(self.db_url, create=self.create)
            except (ArgumentError, ImportError) as exc:  # not a URL, or a database kind we have no driver for
                raise Invalid(f"数据库地址无法使用，请检查 --db / REFORMFLOW_DATABASE_URL，如 "
                              f"sqlite:///instance/reformflow.sqlite3 或 postgresql://user@host/db "
                              f"(not a database URL reformflow can use: {str(exc).splitlines()[0]})") from None
            self._engine = Engine(database)
        return self._engine

    @property
    def db(self):
        return self.engine.db


def _emit(data, as_json: bool, human) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def _refuse(exc: ReformflowError, as_json: bool):
    if as_json:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False, default=str))
    click.echo(f"reformflow: {exc.kind}: {exc.message}".replace("\n", " "), err=True)
    sys.exit(EXIT_CODES[exc.kind])


def command(group, name=None, **kwargs):
    """A CLI command with --json and uniform handling of refusals."""
    def decorate(fn):
        @group.command(name, **kwargs)
        @click.option("--json", "as_json", is_flag=True, help="以 JSON 输出到标准输出 (print data as JSON on standard output).")
        @click.pass_obj
        @functools.wraps(fn)
        def wrapper(state, as_json, **params):
            from sqlalchemy.exc import DBAPIError
            try:
                params = {name: _plan_id(state, value) for name, value in params.items()}
                return fn(state, as_json, **params)
            except ReformflowError as exc:
                _refuse(exc, as_json)
            except DBAPIError as exc:  # a database never initialised, not reachable, or not ours to use
                from .errors import Invalid
                _refuse(Invalid(_database_unusable(exc)), as_json)
        return wrapper
    return decorate


def _database_unusable(exc) -> str:
    reason = str(exc.orig).split("\n")[0]
    if getattr(exc.orig, "sqlstate", None) == "42501" or "permission denied" in reason.lower():
        # the role lacks rights: running init again as the same role cannot help
        return (f"数据库无法使用：{reason}。当前角色权限不足：请以数据库属主角色运行 `reformflow init`，"
                f"并由属主为应用角色运行 ops/grant_app_role.sql（见 docs/operations.md §1） (database not "
                f"usable: this role lacks rights; run `reformflow init` as the database owner role, and "
                f"ops/grant_app_role.sql for the app role, see docs/operations.md section 1)")
    if getattr(exc.orig, "sqlstate", None) == "3D000" or ('database "' in reason and "does not exist" in reason):
        # a PostgreSQL database is created by its administrator: init only fills it
        return (f"数据库无法使用：{reason}。PostgreSQL 数据库须先由其管理员创建（createdb，见 docs/operations.md §1），"
                f"再运行 `reformflow init`；否则检查 --db / REFORMFLOW_DATABASE_URL (database not usable: the "
                f"database does not exist; create it first with createdb, then run `reformflow init`)")
    return (f"数据库无法使用：{reason}。新数据库请先运行 `reformflow init`；"
            f"否则检查 --db / REFORMFLOW_DATABASE_URL (database not usable)")


def _parse_now(ctx, param, value):
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadValue("须为 ISO 8601 时间，如 2026-10-01T09:00:00+08:00",
                       "use ISO 8601, e.g. 2026-10-01T09:00:00+08:00", ctx, param) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=clock.TZ)
    # a year 1 or 9999 moment overflows as soon as it is turned into UTC or a deadline is added
    if not YEARS[0] <= moment.year <= YEARS[1] or not YEARS[0] <= moment.astimezone(clock.TZ).year <= YEARS[1]:
        raise BadValue(f"须在 {YEARS[0]} 至 {YEARS[1]} 年之间", f"must be between the years {YEARS[0]} and "
                       f"{YEARS[1]}", ctx, param)
    return moment


# what a Chinese input method or a word processor types instead of JSON's ASCII punctuation
_JSON_SLIPS = {"“": "中文引号", "”": "中文引号", "‘": "中文引号", "’": "中文引号", "'": "单引号",
               "：": "中文冒号", "，": "中文逗号", "｛": "全角括号", "｝": "全角括号"}


def _json_slip(text: str, exc: Exception) -> str:
    """Where JSON stopped on such a character, say so: the decoder's English alone does not."""
    pos = getattr(exc, "pos", None)
    if pos is None:
        return ""
    rest = text[pos:].lstrip()
    if not rest or rest[0] not in _JSON_SLIPS:
        return ""
    return (f"：第 {len(text) - len(rest) + 1} 个字符是{_JSON_SLIPS[rest[0]]}「{rest[0]}」，"
            '字段名和文本须用英文双引号 "，冒号、逗号须为英文半角 : ,')


def _json_data(value: str | None) -> dict:
    if not value:
        return {}
    from .errors import Invalid

    def finite(text):  # NaN, Infinity and 1e999 are not JSON numbers: a plan's variables could not hold them
        if text in ("NaN", "Infinity", "-Infinity") or not math.isfinite(float(text)):
            raise ValueError(f"{text} is not a finite number")
        return float(text)
    try:
        data = json.loads(value, parse_constant=finite, parse_float=finite)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise Invalid(f"--data 不是有效的 JSON{_json_slip(value, exc)} (--data is not valid JSON: {reason})") from None
    if not isinstance(data, dict):
        raise Invalid("--data 须为 JSON 对象，如 '{\"decision\": \"approve\"}' (--data must be a JSON object)")
    return data


# wide enough that the command list shows each bilingual summary whole, where the terminal allows
@click.group(context_settings={"max_content_width": 140})
@click.option("--db", "db_url", envvar="REFORMFLOW_DATABASE_URL",
              help="数据库地址，默认 ./instance/ 下的 SQLite (database URL; default: SQLite in ./instance/).")
@click.option("--now", callback=_parse_now, help="本条命令使用的引擎时间，ISO 8601 (fix the engine clock for this command).")
@click.pass_context
def main(ctx, db_url, now):
    """reformflow：改革方案审批流程 (approval workflows for reform plans)."""
    if now is not None:
        clock.set_override(now)
    ctx.obj = State(db_url)


# ------------------------------------------------------------------------- set-up
@command(main, "init")
@click.option("--demo", is_flag=True, help="加入演示单位、角色、用户和方案 (add demo units, groups, users and plans).")
def init_cmd(state, as_json, demo):
    """创建或升级数据库结构，可加载演示数据 (create or upgrade the database schema, optionally with demo data)."""
    state.create = True
    _make_folder_for(state.db.url)
    before, after = state.db.upgrade()
    _warn_calendar_gaps(state)
    schema = "created" if before is None else "up to date" if before == after else "upgraded"
    from .audit import public_url  # init's output lands in logs: never the password
    result = {"database": public_url(state.db.url), "schema": schema, "previous_revision": before, "revision": after}
    if demo:
        from .demo import load_demo
        result["demo"] = load_demo(state.engine, progress=None if as_json else click.echo)
    _emit(result, as_json, lambda d: click.echo(_schema_line(d)))


def _make_folder_for(url: str) -> None:
    """init creates a SQLite database where --db says, its folder too (as ./instance/ by
    default): else SQLite's "unable to open database file" was answered with "run reformflow init"."""
    from models.db import sqlite_file

    from .errors import Invalid
    path = sqlite_file(url)
    if path is not None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Invalid(f"无法创建数据库所在的文件夹 {Path(path).parent}：{exc.strerror or exc}"
                          f" (cannot create the database's folder)") from None


def _schema_line(d: dict) -> str:
    """What init did to the schema: an operator upgrading wants to see the migrations ran."""
    old, new, where = d["previous_revision"], d["revision"], d["database"]
    if d["schema"] == "created":
        return f"已创建数据库结构，版本 {new} (schema created at {new})，数据库 (database) {where}"
    if d["schema"] == "upgraded":
        return f"数据库结构已从 {old} 升级到 {new} (schema upgraded {old} → {new})，数据库 (database) {where}"
    return f"数据库结构已是最新，版本 {new} (schema up to date at {new})，数据库 (database) {where}"


@main.group()
def users():
    """管理用户 (manage users)."""


@command(users, "add")
@click.argument("username")
@click.option("--display-name", required=True, help="姓名 (display name).")
@click.option("--group", "groups", multiple=True, help="所属角色代码，可重复 (candidate group code, repeatable).")
@click.option("--unit", help="所在单位 (unit, department).")
@click.option("--password", help="网页待办的登录密码；会留在命令历史和进程列表中，建议添加后改用 "
                                "`reformflow users password` 设置 (password for the web inbox; it stays in the "
                                "shell history and shows in `ps`: better set it with `reformflow users password`).")
@click.option("--email", help="邮箱地址，用于邮件提醒 (email address for mail notifications).")
def users_add(state, as_json, username, display_name, groups, unit, password, email):
    """添加用户 (add a user)."""
    result = state.engine.add_user(username, display_name, groups=list(groups), unit=unit, password=password,
                                   email=email)
    _emit(result, as_json, lambda d: click.echo(f"已添加用户 {d['username']} (user added)"))


@command(users, "password")
@click.argument("username")
@click.option("--as", "actor", required=True,
              help="谁来设置：本人（须输入当前密码），或为他人重设的改革办用户，记入审计记录 "
                   "(who sets it: the user themselves, giving the current one, or the reform office resetting it).")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="从标准输入读取新密码一行，供脚本使用；本人修改时先读当前密码一行 (read the new password as one "
                   "line of standard input, for scripts; changing one's own, the current password's line comes first).")
def users_password(state, as_json, username, actor, from_stdin):
    """设置网页待办的登录密码：本人修改，或改革办重设，不回显、不留在命令历史中；其网页登录随之失效
    (set a web inbox password: one's own, or reset by the reform office; never echoed nor kept in the
    shell history; the user's web sessions end)."""
    own = username == actor
    if from_stdin:
        lines = [line.rstrip("\r\n") for line in sys.stdin.readlines()]
        needed = 2 if own else 1
        if len(lines) != needed or not all(lines):
            raise BadValue(f"标准输入须为{'当前密码、新密码各一行' if own else '新密码一行'}",
                           "standard input must hold " + ("the current password, then the new one, one line each"
                                                          if own else "the new password on one line"),
                           click.get_current_context(), param_hint="'--stdin'")
        current, new = (lines[0], lines[1]) if own else (None, lines[0])
    else:
        current = click.prompt("当前密码 (current password)", hide_input=True, err=True) if own else None
        new = click.prompt("新密码 (new password)", hide_input=True, err=True, value_proc=_new_password(username),
                           confirmation_prompt="再次输入新密码 (the new password again)")
    result = state.engine.set_password(username, new, actor=actor, current_password=current)
    result = {k: v for k, v in result.items() if k != "session_generation"}  # the web's business

    def human(d):
        if d["reset"]:
            click.echo(f"已重设 {d['username']} {d['display_name']} 的密码，其网页登录已失效，请将新密码当面或经安全渠道告知本人 "
                       f"(password reset; their web sessions have ended: tell them the new one in person)")
        else:
            click.echo(f"已修改 {d['username']} {d['display_name']} 的密码，网页上已登录的会话均已失效，请用新密码登录 "
                       f"(password changed; signed-in web sessions have ended: sign in with the new one)")
    _emit(result, as_json, human)


def _new_password(username: str):
    """Checks a password typed at the prompt before asking for it again: a short one is asked
    for anew, not refused after both."""
    from .errors import Invalid
    from .passwords import checked

    def check(value: str) -> str:
        try:
            return checked(username, value)
        except Invalid as exc:
            raise click.UsageError(exc.message) from None
    return check


@command(users, "list")
@click.option("--group", help="只列此角色的成员 (only members of this group).")
@click.option("--all", "include_inactive", is_flag=True, help="包括已停用的用户 (include deactivated users).")
def users_list(state, as_json, group, include_inactive):
    """列出用户：单位、角色、手头待办数 (list users: unit, groups, open tasks they hold)."""
    result = {"users": state.engine.users(group=group, include_inactive=include_inactive)}
    _emit(result, as_json, lambda d: [click.echo(_user_line(u)) for u in d["users"]])


def _user_line(u: dict) -> str:
    state = "" if u["active"] else " [已停用 deactivated]"
    return (f"{u['username']} {u['display_name']}（{u['unit'] or '未填单位'}）角色 (groups)："
            f"{', '.join(u['groups']) or '—'}；手头待办 (holding) {u['holding']}{state}")


@command(users, "update")
@click.argument("username")
@click.option("--display-name", help="新姓名 (new display name).")
@click.option("--unit", help="新单位，如调动后 (new unit, e.g. after a transfer).")
@click.option("--add-group", "add_groups", multiple=True, help="加入角色，可重复 (add to a group, repeatable).")
@click.option("--remove-group", "remove_groups", multiple=True, help="移出角色，可重复 (remove from a group, repeatable).")
@click.option("--email", help="邮箱地址，用于邮件提醒；空字符串 \"\" 清除 (email address for mail notifications; \"\" clears it).")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who changes the user: reform office).")
def users_update(state, as_json, username, display_name, unit, add_groups, remove_groups, actor, email):
    """修改用户的姓名、单位或角色，手头待办不变，但调离单位的限该单位待办退回该单位
    (change a user's name, unit or groups; the tasks they hold stay theirs, but for the steps kept to the unit they left)."""
    if display_name is None and unit is None and not add_groups and not remove_groups and email is None:
        raise BadValue("至少指定一项修改：--display-name、--unit、--add-group、--remove-group 或 --email",
                       "give at least one change: --display-name, --unit, --add-group, --remove-group or --email",
                       click.get_current_context(),
                       param_hint="'--display-name' / '--unit' / '--add-group' / '--remove-group' / '--email'")
    result = state.engine.update_user(username, actor=actor, display_name=display_name, unit=unit,
                                      add_groups=list(add_groups), remove_groups=list(remove_groups), email=email)

    def human(d):
        click.echo(_user_line(d))
        if not d["changed"]:
            click.echo("没有变化 (nothing changed)")
        _show_returned(d)  # moved out of a unit: its steps they held went back to it
        for t in d.get("to_assign", []):
            click.echo(f"  {t['candidate_unit']}无其他在岗人员可接，仍由其办理，如需改派 (nobody else in "
                       f"{t['candidate_unit']} may take it: still theirs; to give it to someone else): 方案 (plan) "
                       f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}："
                       f"reformflow assign {t['id']} --to 用户名 --as {actor} --reassign")
    _emit(result, as_json, human)


def _show_returned(d):
    """The tasks a user's deactivation or move to another unit gave back to their candidates."""
    for t in d.get("returned", []):
        click.echo(f"  退回 (back to) {_candidates_text(t)}：方案 (plan) "
                   f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}")


@command(users, "deactivate")
@click.argument("username")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who deactivates: reform office).")
def users_deactivate(state, as_json, username, actor):
    """停用离岗人员：不能再办理，手头待办退回其角色，无人可接的列出待改革办指派
    (deactivate someone who left: their tasks go back to their group; those nobody else may take are listed for the office to assign)."""
    result = state.engine.deactivate_user(username, actor=actor)

    def human(d):
        click.echo(f"已停用 {d['username']} {d['display_name']} (deactivated)")
        if d["tokens_revoked"]:
            click.echo(f"  其 {d['tokens_revoked']} 个访问令牌已撤销，重新启用后也不恢复 "
                       f"({d['tokens_revoked']} API token(s) revoked for good)")
        _show_returned(d)
        for t in d["to_assign"]:
            click.echo(f"  无人可接，须由改革办办理 (nobody else may take it: the reform office): 方案 (plan) "
                       f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}："
                       f"reformflow assign {t['id']} --to 改革办用户 --as {actor} --reassign")
    _emit(result, as_json, human)


@command(users, "reactivate")
@click.argument("username")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who reactivates: reform office).")
def users_reactivate(state, as_json, username, actor):
    """重新启用用户 (reactivate a user)."""
    result = state.engine.reactivate_user(username, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已启用 {d['username']} {d['display_name']} (reactivated)"))


@main.group()
def groups():
    """管理角色 (manage candidate groups, i.e. roles)."""


@command(groups, "list")
def groups_list(state, as_json):
    """列出角色及其在岗人数 (list groups and how many active users each has)."""
    result = {"groups": state.engine.groups()}
    _emit(result, as_json, lambda d: [click.echo(f"{g['code']} {g['display_name']}：{g['members']} 人 (members)")
                                      for g in d["groups"]])


@command(groups, "add")
@click.argument("code")
@click.option("--display-name", required=True, help="角色名称 (display name).")
def groups_add(state, as_json, code, display_name):
    """添加角色 (add a candidate group)."""
    result = state.engine.add_group(code, display_name)
    _emit(result, as_json, lambda d: click.echo(f"已添加角色 {d['code']} (group added)"))


@main.group()
def calendar():
    """工作日日历：录入日历包尚未收录年份的放假和调休 (working-day calendar: holidays and swapped working days for years the package lacks)."""


class Day(click.DateTime):
    """A calendar day, YYYY-MM-DD, in the years a calendar can be entered for."""

    def __init__(self):
        super().__init__(["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        day = super().convert(value, param, ctx)
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise BadValue(f"须在 {YEARS[0]} 至 {YEARS[1]} 年之间",
                           f"must be between the years {YEARS[0]} and {YEARS[1]}", ctx, param)
        return day

    def fail(self, message, param=None, ctx=None):
        raise BadValue("须为日期，格式 YYYY-MM-DD", message.rstrip("."), ctx, param)


@command(calendar, "set")
@click.argument("day", type=Day(), metavar="DAY")
@click.option("--off", is_flag=True, help="放假，如落在工作日的节日；与 --working 二选一 (a day off, e.g. a holiday on a weekday; this or --working).")
@click.option("--working", is_flag=True, help="调休上班，如调换的周末；与 --off 二选一 (a working day, e.g. a swapped weekend; this or --off).")
@click.option("--note", default="", help="说明，如 元旦 / 春节调休 (a note).")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who enters the day: reform office).")
def calendar_set(state, as_json, day, off, working, note, actor):
    """把 DAY 录入为放假 (--off) 或调休上班 (--working)，并重新计算跨过该日的待办期限和定时器
    (enter DAY as a day off or a working day; open deadlines and timers counted across it are counted again)."""
    if off == working:  # neither, or both: a --working/--off switch let the last one win unseen
        raise BadValue("须指定 --off（放假）或 --working（调休上班），且只能指定其中一个",
                       "give exactly one of --off (a day off) or --working (a working day)",
                       click.get_current_context(), param_hint="'--off' / '--working'")
    result = state.engine.set_calendar_day(day.date(), working=working, note=note, actor=actor)
    result["moved"] = _recount(state, day.date(), actor)
    _emit(result, as_json, _print_calendar_change)


def _recount(state, day, actor) -> list[dict]:
    """Count again the open deadlines counted across `day` (or an earlier changed day)."""
    return state.engine.recount_working_days(
        day, actor=actor,
        progress=lambda done, of: click.echo(f"重新计算期限：{done}/{of} 个方案 (deadlines counted again in "
                                             f"{done} of {of} plans)", err=True))


@command(calendar, "remove")
@click.argument("day", type=Day(), metavar="DAY")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who removes the entry: reform office).")
def calendar_remove(state, as_json, day, actor):
    """撤销 DAY 的录入（录错时用），该日恢复为日历包或周一至周五的安排，并重新计算跨过该日的期限
    (take back what was entered for DAY; deadlines counted across it are counted again)."""
    result = state.engine.remove_calendar_day(day.date(), actor=actor)
    result["moved"] = _recount(state, day.date(), actor)
    # the day is now as the package or Monday-Friday has it: a plain working day or day off, no
    # longer 调休上班 or 放假
    now = ("工作日", "a working day") if result["working"] else ("休息日", "a day off")
    _emit(result, as_json, lambda d: (click.echo(f"{d['day']}：已撤销录入，现为{now[0]} (entry removed: now {now[1]})"),
                                      _print_moved(d["moved"])))


@command(calendar, "import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (who enters the schedule: reform office).")
def calendar_import(state, as_json, path, actor):
    """从 CSV 文件一次录入全年放假和调休安排，全部成功或全部不变 (enter a year's holidays and working
    weekends from a CSV file, all or nothing).

    \b
    文件格式 (the file)，UTF-8 或 GB18030：
      日期,安排,说明
      2027-01-01,放假,元旦
      2027-02-06..2027-02-13,放假,春节
      2027-02-14,上班,春节调休
    """
    from . import calendar_file
    with open(path, "rb") as f:
        content = f.read(calendar_file.MAX_BYTES + 1)
    entries = calendar_file.read(path, content, YEARS)
    result = state.engine.set_calendar_days([(e.day, e.working, e.note) for e in entries], actor=actor)
    changed = [date.fromisoformat(d["day"]) for d in result["entered"]]
    # one recount for the whole file: a task counted before the last changed day may cross any of them
    result["moved"] = _recount(state, max(changed), actor) if changed else []
    _emit(result, as_json, _print_calendar_import)


def _print_calendar_import(d: dict) -> None:
    off = sum(not e["working"] for e in d["entered"])
    click.echo(f"已录入 {len(d['entered'])} 天：放假 {off} 天，调休上班 {len(d['entered']) - off} 天；"
               f"已有相同记录 {len(d['unchanged'])} 天 (entered {len(d['entered'])} day(s): {off} off, "
               f"{len(d['entered']) - off} working; {len(d['unchanged'])} already entered the same way)")
    _print_moved(d["moved"])


def _print_calendar_change(d: dict) -> None:
    click.echo(f"{d['day']}：{_day_kind(d['working'])}")
    _print_moved(d["moved"])


def _print_moved(moved: list[dict]) -> None:
    for plan in moved:
        for t in plan["tasks"]:
            click.echo(f"  方案 (plan) {plan['instance_id']}：待办 (task) {t['task_id']} {t['name']} 期限 (due) "
                       f"{_deadline(t['old'], False) if t['old'] else '—'} → {_deadline(t['new'], False)}")
        for t in plan["timers"]:
            click.echo(f"  方案 (plan) {plan['instance_id']}：定时器 (timer) {t['name'] or t['element_id']} "
                       f"{_deadline(t['old'], False)} → {_deadline(t['new'], False)}")


def _day_kind(working: bool) -> str:
    return "调休上班 (working day)" if working else "放假 (day off)"


@command(calendar, "show")
@click.argument("year", type=YEAR)
def calendar_show(state, as_json, year):
    """列出 YEAR 年与周一至周五不同的日子及其来源 (which days of YEAR differ from Monday–Friday, and where from)."""
    from .calendar_year import entries, year_days
    with state.db.reader() as s:
        result = year_days(entries(s), year)

    def human(d):
        for row in d["days"]:
            click.echo(f"{row['day']} {_day_kind(row['working'])}{' 已录入 (override)' if row['override'] else ''}")
        for warning in d["warnings"]:
            click.echo(f"警告 (warning): {warning}", err=True)
    _emit(result, as_json, human)


def _work_calendar(state):
    """The working-day calendar as deadlines see it: chinesecalendar plus the override table."""
    from sqlalchemy import select

    from models import CalendarOverride

    from .workdays import WorkCalendar
    with state.db.reader() as s:
        return WorkCalendar({o.day: o.is_working_day for o in s.execute(select(CalendarOverride)).scalars()})


# Deadlines set today can reach this far ahead (a month's filing, 30 days' consultation, 15
# working days' review), so a year starting within it must already be known.
CALENDAR_LOOKAHEAD = timedelta(days=90)


def _warn_calendar_gaps(state) -> None:
    """Say on standard error, at init and when a worker starts, which year deadlines will soon
    reach that neither chinesecalendar nor the override table knows: working days there would
    count plain weekends and miss the holidays (e.g. the package gets a new year each November)."""
    today = clock.today()
    calendar = _work_calendar(state)
    for year in sorted({today.year, (today + CALENDAR_LOOKAHEAD).year}):
        if not calendar.covered(year):
            click.echo(f"警告 (warning): {gap_warning(year)}", err=True)




# ------------------------------------------------------------------------- processes
def _read_files(paths) -> list[tuple[str, bytes]]:
    """Each file's bytes, read no further than one byte past the size limit: a path such as
    /dev/zero never ends, and the limit refuses what is longer anyway."""
    from .xmlsafe import MAX_BYTES
    files, seen = [], set()
    for p in paths:
        if os.path.realpath(p) in seen:  # globs that overlap name a file twice: it is still one file
            continue
        seen.add(os.path.realpath(p))
        with open(p, "rb") as f:
            files.append((str(p), f.read(MAX_BYTES + 1)))
    return files


@main.group()
def tokens():
    """管理 JSON API 的个人访问令牌 (manage personal access tokens of the JSON API)."""


@command(tokens, "add")
@click.argument("name")
@click.option("--as", "actor", required=True, help="令牌的所有者，API 以其身份办理 (the token's owner: the API acts as them).")
@click.option("--expires", type=Day(), metavar="DATE",
              help="有效期的最后一天 YYYY-MM-DD，至当日 24 时（北京时间）；不填则长期有效，直至撤销 "
                   "(the last day it is valid, to the end of that day, Beijing time; without it, until revoked).")
def tokens_add(state, as_json, name, actor, expires):
    """创建访问令牌：密钥只显示这一次，请立即妥善保存 (create an access token: its secret is shown this once only)."""
    result = state.engine.create_token(actor, name, expires.date() if expires else None)

    def human(d):
        until = f"有效至 {display.deadline(d['expires_at'])} (valid through that day)" if d["expires_at"] \
            else "长期有效，直至撤销 (valid until revoked)"
        click.echo(f"已创建访问令牌 {d['id']}「{d['name']}」，{until} (token created)")
        click.echo(f"密钥 (secret)：{d['secret']}")
        click.echo("密钥只显示这一次，请立即复制保存；用法：Authorization: Bearer <密钥>，见 docs/api.md "
                   "(the secret is shown this once only: copy it now; send it as Authorization: Bearer <secret>)")
    _emit(result, as_json, human)


_TOKEN_STATES = {"active": "有效 active", "revoked": "已撤销 revoked", "expired": "已过期 expired"}


@command(tokens, "list")
@click.option("--as", "actor", required=True, help="谁的令牌 (whose tokens).")
@click.option("--user", "owner", help="改革办查看他人的令牌 (the reform office: another person's tokens).")
def tokens_list(state, as_json, actor, owner):
    """列出访问令牌（不含密钥） (list access tokens, never their secrets)."""
    result = {"tokens": state.engine.tokens(actor, owner=owner)}

    def human(d):
        if not d["tokens"]:
            click.echo("没有访问令牌 (no tokens)")
        for t in d["tokens"]:
            until = display.deadline(t["expires_at"]) if t["expires_at"] else "—"
            used = display.minute(t["last_used_at"]) if t["last_used_at"] else "从未使用 (never)"
            click.echo(f"{t['id']}「{t['name']}」{t['username']} [{_TOKEN_STATES[t['state']]}] "
                       f"创建于 (created) {display.minute(t['created_at'])}，有效至 (expires) {until}，"
                       f"最近使用 (last used) {used}")
    _emit(result, as_json, human)


@command(tokens, "revoke")
@click.argument("token_id", type=ID)
@click.option("--as", "actor", required=True, help="令牌的所有者或改革办用户，记入审计记录 (its owner or the reform office).")
def tokens_revoke(state, as_json, token_id, actor):
    """撤销访问令牌，即时生效 (revoke an access token, at once)."""
    result = state.engine.revoke_token(actor, token_id)
    _emit(result, as_json, lambda d: click.echo(f"已撤销访问令牌 {d['id']}「{d['name']}」 (token revoked)"))


@main.group()
def delegate():
    """委托办理：外出期间由同事代为办理待办 (delegation: a colleague handles one's tasks while one is away)."""


@command(delegate, "add")
@click.argument("principal")
@click.option("--to", "to", required=True, help="受托人，代为办理的同事 (the delegate: who acts for them).")
@click.option("--from", "starts", type=Day(), required=True, metavar="DATE",
              help="第一天 YYYY-MM-DD（北京时间） (the first day, Beijing date).")
@click.option("--until", "ends", type=Day(), required=True, metavar="DATE",
              help="最后一天 YYYY-MM-DD，含当日 (the last day, included).")
@click.option("--reason", required=True, help="事由，如 出差、休假、学习 (the reason, e.g. a business trip).")
@click.option("--as", "actor", required=True, help="委托人本人或改革办用户，记入审计记录 (the principal or the reform office).")
def delegate_add(state, as_json, principal, to, starts, ends, reason, actor):
    """设置委托：期间受托人可认领、办理委托人的待办，留痕注明「代」谁 (set a delegation: meanwhile the delegate
    claims and completes the principal's tasks, each recorded as on their behalf)."""
    result = state.engine.delegate(principal, to=to, starts_on=starts.date(), ends_on=ends.date(), reason=reason,
                                   actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已设置委托 {d['id']} (delegation set)：{_delegation_line(d)}"))


_DELEGATION_STATES = {"in_force": "生效中 in force", "upcoming": "未开始 upcoming", "over": "已到期 over",
                      "ended": "已结束 ended"}


def _delegation_line(d: dict) -> str:
    ended = f"，{_local(d['ended_at'])} 由 {d['ended_by']} 结束 (ended)" if d["ended_at"] else ""
    return (f"{d['principal']} → {d['delegate']} {d['starts_on']} 至 (to) {d['ends_on']}「{d['reason']}」"
            f"[{_DELEGATION_STATES[d['state']]}]{ended}")


@command(delegate, "list")
@click.option("--as", "actor", required=True, help="谁的委托（委托他人的和受托的） (whose delegations, given and received).")
@click.option("--user", help="改革办查看某人的委托 (the reform office: another person's).")
@click.option("--all", "everyone", is_flag=True, help="改革办查看全部生效中和未开始的委托 (the reform office: all "
                                                       "delegations in force or upcoming).")
def delegate_list(state, as_json, actor, user, everyone):
    """列出委托 (list delegations)."""
    result = {"delegations": state.engine.delegations(actor, user=user, everyone=everyone)}

    def human(d):
        if not d["delegations"]:
            click.echo("没有委托 (no delegations)")
        for row in d["delegations"]:
            click.echo(f"{row['id']} {_delegation_line(row)}")
    _emit(result, as_json, human)


@command(delegate, "end")
@click.argument("delegation_id", type=ID)
@click.option("--as", "actor", required=True, help="委托人、受托人或改革办用户 (the principal, the delegate or the reform office).")
def delegate_end(state, as_json, delegation_id, actor):
    """提前结束委托，即时生效 (end a delegation now)."""
    result = state.engine.end_delegation(delegation_id, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已结束委托 {d['id']} (delegation ended)：{_delegation_line(d)}"))


@command(main, "check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def check_cmd(state, as_json, files):
    """检查 BPMN 文件并列出全部问题，不部署 (print every problem in BPMN files without deploying them)."""
    from .checks import check_files
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
        click.echo(f"{d['errors']} 个错误，{d['warnings']} 个警告 ({d['errors']} error(s), {d['warnings']} warning(s))")
    _emit(result, as_json, human)
    if errors:
        sys.exit(EXIT_CODES["invalid"])


def _problem_line(p: dict) -> str:
    """A problem as `check` prints it, and `deploy` its warnings: file, severity, element id (name), rule, message."""
    return (f"{p['file']}: {_SEVERITY.get(p['severity'], p['severity'])}: {p['element_id'] or '-'}"
            f"{' (' + p['element_name'] + ')' if p['element_name'] else ''}: [{p['rule']}] {p['message']}")


def _deployed(state) -> dict | None:
    """The latest deployed diagrams (key -> (sha256, xml)), so a call activity may name them
    and the variables they set count; None if there is no database yet. Checking never
    creates a database."""
    from sqlalchemy.exc import DBAPIError

    from models.db import normalise_url

    from .commands import latest_diagrams
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


def _directory(state) -> tuple[set[str], set[str]]:
    from .commands import directory_of
    with state.db.reader() as s:
        return directory_of(s)


@command(main, "deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "actor", default="system", show_default=True,
              help="部署人，记入审计记录：在职用户，默认 system (who deploys, recorded in the audit trail).")
def deploy_cmd(state, as_json, files, actor):
    """部署 BPMN 文件，全部成功或全部不变 (deploy BPMN files, all or nothing)."""
    result = state.engine.deploy(_read_files(files), actor=actor)

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


@command(main, "definitions")
@click.option("--all-versions", is_flag=True, help="列出每个版本 (list every version).")
def definitions_cmd(state, as_json, all_versions):
    """列出已部署的流程，默认每个只列最新版本 (list deployed process definitions, latest version of each by default)."""
    from .queries import definitions
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
    from .diagram_changes import against_deployed, between_versions
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
        click.echo(f"{title}：尚未部署，部署后为第 1 版 (not deployed yet: it becomes version 1)")
    elif p.get("unchanged"):
        click.echo(f"{title}：与已部署的版本相同 (the same as deployed)")
    elif p["layout_only"]:
        click.echo(f"{title}：只改了图形布局，办理方式没有变化 (layout only: plans run as before)")
    else:
        click.echo(f"{title}：{len(p['changes'])} 处变化 ({len(p['changes'])} change(s))")
    for c in p["changes"]:
        click.echo(f"  {_CHANGE_WORDS[c['change']]} {c['type_name']} ({c['type_name_en']}) {c['element_id']} {c['name']}".rstrip())
        for d in c["details"]:
            if d["old"] is not None and d["new"] is not None:
                click.echo(f"    {d['label']} ({d['label_en']})：{d['old']} → {d['new']}")
            else:
                click.echo(f"    {d['label']} ({d['label_en']})：{d['new'] if d['old'] is None else '（删除 removed）' + d['old']}")


# ------------------------------------------------------------------------- plans and tasks
def _show_instance(d):
    click.echo(f"#{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] {d['definition_key']} "
               f"v{d['definition_version']} 业务编号 (business key) {d['business_key'] or '-'}")
    for t in d["tasks"]:
        _show_task(t)


def _local(value: str) -> str:
    """An instant as a person here reads it (--json keeps the exact instant, in UTC, for scripts)."""
    return display.minute(value)


def _deadline(value: str, active: bool) -> str:
    """A deadline as the day it runs to; an active task past its deadline says so."""
    overdue = active and datetime.fromisoformat(value) <= clock.now()
    return display.deadline(value) + (" 已逾期 OVERDUE" if overdue else "")


_TASK_STATUS = {"open": "待认领 open", "claimed": "已认领 claimed", "completed": "已办结 completed",
                "cancelled": "已取消 cancelled"}
_PLAN_STATUS = {"running": "办理中 running", "completed": "已办结 completed", "cancelled": "已终止 cancelled",
                "error": "出错 error"}
_DEPLOYED = {"created": "已部署新版本 (created)", "unchanged": "内容未变，未新增版本 (unchanged)"}


def _label(labels: dict, status: str) -> str:
    return labels.get(status, status)


def _candidates_text(t) -> str:
    """Who may take an open task: its groups and users, and the unit it is kept to."""
    unit = f"（限 {t['candidate_unit']} only）" if t.get("candidate_unit") else ""
    return ",".join(t["candidate_groups"] + t["candidate_users"]) + unit


def _show_task(t):
    from .runtime import OPEN_STATUSES
    who = t["assignee"] or _candidates_text(t) or "-"
    active = t["status"] in OPEN_STATUSES
    due = f" 期限 (due) {_deadline(t['due_at'], active)}" if t["due_at"] else ""
    reminded = f" 已提醒 (reminded) {_local(t['reminded_at'])}" if t.get("reminded_at") else ""
    if t["status"] == "completed" and t.get("completed_at"):
        reminded += f" 办结 (completed) {_local(t['completed_at'])}"
    plan = f" — {t['business_key'] or '#' + str(t['instance_id'])} {t['plan_title'] or ''}".rstrip() \
        if "plan_title" in t else ""  # inbox lists name the plan; a plan's own page need not
    behalf = f" 代 {t['on_behalf_of']} (on behalf of)" if t.get("on_behalf_of") else ""  # 委托办理
    click.echo(f"  待办 (task) {t['id']}：{display.step(t['name'], t['subject'])} ({t['element_id']}) "
               f"[{_label(_TASK_STATUS, t['status'])}] "
               f"{who}{behalf}{due}{reminded}{plan}")


@command(main, "start")
@click.argument("key")
@click.option("--as", "actor", required=True, help="发起人用户名 (who starts the plan).")
@click.option("--title", help="方案名称 (the plan's title).")
@click.option("--business-key", help="业务编号 (business key).")
@click.option("--data", help="启动变量，JSON 对象 (start variables as a JSON object).")
def start_cmd(state, as_json, key, actor, title, business_key, data):
    """按流程最新版本发起方案 (start a plan on the latest version of a process)."""
    result = state.engine.start(key, actor=actor, title=title, business_key=business_key, data=_json_data(data))
    _emit(result, as_json, _show_instance)


@command(main, "tasks")
@click.option("--as", "actor", required=True, help="谁的待办 (whose inbox).")
# the choices are engine.queries.LISTS, written out: importing it here would load SpiffWorkflow
@click.option("--scope", type=click.Choice(["mine", "claimable", "all", "done"]), default="all", show_default=True,
              help="mine 已认领的，claimable 可认领的，all 两者，done 已办（本人办结的，最近的在前） "
                   "(claimed, claimable, both, or done: the steps they completed, latest first).")
@click.option("--instance", "instance_id", type=PLAN, help="只列此方案的，编号或业务编号 (only this plan's: id or business key).")
@click.option("--overdue", is_flag=True, help="只列已逾期的；done 时只列逾期办结的 (only those past their deadline; "
                                                "with done, those completed after it).")
@click.option("--find", "text", help="只列方案名称、业务编号或步骤名称含此文字的 (only those whose plan title, "
                                     "business key or step name contains this).")
def tasks_cmd(state, as_json, actor, scope, instance_id, overdue, text):
    """列出用户的待办或已办 (list a user's inbox, or the steps they completed)."""
    from .queries import list_tasks
    with state.db.reader() as s:
        result = list_tasks(s, actor, scope, instance_id, overdue_at=clock.now() if overdue else None,
                            text=(text or "").strip() or None)
    empty = "（没有已办）(nothing completed)" if scope == "done" else "（没有待办）(no tasks)"
    _emit({"tasks": result}, as_json, lambda d: [_show_task(t) for t in d["tasks"]] or click.echo(empty))


@command(main, "task")
@click.argument("task_id", type=ID)
def task_cmd(state, as_json, task_id):
    """查看一项待办：办理要求、表单字段及当前值、提交示例 (show a task: what to do, its form, how to submit)."""
    _emit(state.engine.task_view(task_id), as_json, _show_task_page)


_FIELD_TYPES = {"string": "文本 string", "long": "整数 long", "boolean": "是/否 boolean", "date": "日期 date",
                "enum": "选项 enum"}


def _range(kind: str, bounds: dict) -> str:
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None:
        return f"{low} 至 (to) {high}"
    if kind == "date":
        return f"不早于 {low} (not before {low})" if low is not None else f"不晚于 {high} (not after {high})"
    return f"不小于 {low} (at least {low})" if low is not None else f"不大于 {high} (at most {high})"


_SEVERITY = {"error": "错误 error", "warning": "警告 warning"}


def _show_task_page(t: dict) -> None:
    _show_task(t)
    if t["documentation"]:
        click.echo(f"  办理要求 (what to do)：{t['documentation']}")
    for d in t.get("documents", []):
        _show_document(d)
    if t.get("attachments_required") and not t.get("documents"):
        click.echo("  须上传附件后提交 (a file must be attached before this step is completed)")
    _show_form(t)
    if t["status"] == "claimed":
        click.echo(f"  上传附件 (attach a file)：reformflow attach {t['id']} <文件 FILE> --as {t['assignee']}")


def _show_form(t: dict) -> None:
    from .runtime import OPEN_STATUSES
    if not t["form"]:
        return
    click.echo("  表单 (form)：")
    editable = {}
    for f in t["form"]:
        c, value, bounds = f["constraints"], t["values"].get(f["id"]), t["bounds"].get(f["id"], {})
        notes = [_FIELD_TYPES.get(f["type"], f["type"])]
        notes += ["只读 read-only"] if "readonly" in c else ["必填 required"] if "required" in c else []
        if bounds:
            notes.append(_range(f["type"], bounds))
        if (f.get("properties") or {}).get("rangeHint") and "readonly" not in c:
            notes.append(f["properties"]["rangeHint"])  # the diagram's rule in words
        for name, zh in (("minlength", "至少"), ("maxlength", "至多")):
            if c.get(name):
                notes.append(f"{zh} {c[name]} 字 ({name} {c[name]})")
        shown = "" if value is None else f" = {json.dumps(value, ensure_ascii=False)}"
        click.echo(f"    {f['label']} {f['id']}（{'，'.join(notes)}）{shown}")
        if f["id"] in t.get("earlier", {}):  # not prefilled: this decision gives its own
            earlier = json.dumps(t["earlier"][f["id"]], ensure_ascii=False)
            click.echo(f"      此前填写 (given earlier)：{earlier}")
        if f["options"]:
            options = " | ".join(f"{o['id']} {o['name']}" for o in f["options"])
            click.echo(f"      取值 (one of)：{options}")
        if "readonly" not in c:
            editable[f["id"]] = "" if value is None else value
    if t["status"] == "open":
        click.echo(f"  先认领 (claim first)：reformflow claim {t['id']} --as <用户名 user>")
    if t["status"] in OPEN_STATUSES:
        data = json.dumps(editable, ensure_ascii=False)
        attach = " --attach <文件 FILE>" if t.get("attachments_required") and not t.get("documents") else ""
        click.echo(f"  提交 (submit)：reformflow complete {t['id']} --as {t['assignee'] or '<用户名 user>'} "
                   f"--data '{data}'{attach}")


def _task_command(name, method, help_text, extra=None):
    @command(main, name, help=help_text)
    @click.argument("task_id", type=ID)
    @click.option("--as", "actor", required=True, help="办理人用户名 (who acts).")
    def cmd(state, as_json, task_id, actor, **kw):
        result = getattr(state.engine, method)(task_id, actor=actor, **kw)
        _emit(result, as_json, _show_task)
    return cmd


_task_command("claim", "claim", "认领一项你可办理的待办 (claim a task you are a candidate for).")


@command(main, "unclaim")
@click.argument("task_id", type=ID)
@click.option("--as", "actor", required=True, help="办理人用户名 (who acts).")
def unclaim_cmd(state, as_json, task_id, actor):
    """退还已认领的待办 (give a claimed task back to its candidates)."""
    def human(d):
        _show_task(d)
        if d.get("to_assign"):  # kept to a unit with nobody else to claim it: say who can act now
            click.echo(f"  {d['candidate_unit']}无其他在岗人员可认领，须由改革办指派：reformflow assign {d['id']} --to 用户名 "
                       f"(nobody else in {d['candidate_unit']} may claim it: the reform office must assign it)")
    _emit(state.engine.unclaim(task_id, actor=actor), as_json, human)


@command(main, "assign")
@click.argument("task_id", type=ID)
@click.option("--to", "to", required=True, help="交给谁 (the user to assign to).")
@click.option("--as", "actor", required=True, help="改革办用户名 (who assigns: reform office).")
@click.option("--reassign", is_flag=True, help="从当前办理人手中收回改派 (take the task from the person who holds it).")
def assign_cmd(state, as_json, task_id, to, actor, reassign):
    """把待办指派给用户，限改革办 (assign a task to a user; reform office only)."""
    _emit(state.engine.assign(task_id, to=to, actor=actor, reassign=reassign), as_json, _show_task)


@command(main, "complete")
@click.argument("task_id", type=ID)
@click.option("--as", "actor", required=True, help="办理人用户名 (who completes).")
@click.option("--data", help="表单数据，JSON 对象 (form values as a JSON object).")
@click.option("--attach", "paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="随表单一并上传的附件，可重复 (a file to attach with the form, repeatable).")
@click.option("--comment", help="随提交一并留言，关于本步骤 (a comment on this step, recorded with the submission).")
def complete_cmd(state, as_json, task_id, actor, data, paths, comment):
    """提交已认领的待办及其表单 (complete a claimed task with its form data)."""
    def human(d):
        _show_task(d)
        for f in d.get("documents", []):
            _show_document(f)
        if d.get("comment"):
            _show_comment(d["comment"])
        for t in d.get("reopened", []):  # a check sent the submission back: say so, not just "completed"
            click.echo(f"  退回本人补充或再次办理 (back to you): 待办 (task) {t['id']}：{t['name']} — 请查看要求后重新提交"
                       " (see what is missing and submit again)")
    _emit(state.engine.complete(task_id, actor=actor, data=_json_data(data), files=_read_attachments(paths),
                                comment=comment), as_json, human)


# ------------------------------------------------------------------------- attached files
@command(main, "attach")
@click.argument("task_id", type=ID)
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--as", "actor", required=True, help="办理人用户名 (who attaches: the task's assignee).")
@click.option("--name", help="保存的文件名，默认为原文件名 (the name to keep; default: the file's own).")
def attach_cmd(state, as_json, task_id, path, actor, name):
    """为已认领的待办上传附件，如方案稿、评估报告 (attach a file to a task you hold, e.g. the draft or a report)."""
    [(file_name, content)] = _read_attachments([path], name)
    _emit(state.engine.attach(task_id, file_name, content, actor=actor), as_json, _show_document)


def _read_attachments(paths, name: str | None = None) -> list[tuple[str, bytes]]:
    """Each file's name (or `name`) and bytes. The name and kind are checked before anything is
    read, and only a regular file is read, no further than one byte past the size limit: a pipe
    would wait for a writer forever, a device such as /dev/zero never ends."""
    import os
    import stat
    from . import documents
    from .errors import Invalid
    files = []
    for path in paths:
        file_name = name or Path(path).name
        kept, _ = documents.checked_name(file_name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe without a writer does not block
        except OSError as exc:
            raise Invalid(f"无法读取附件 {path}：{exc.strerror or exc} (cannot read the file)") from None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise Invalid(f"附件 {path} 不是普通文件（如管道、设备），不能上传；请先保存为文件 "
                              "(not a regular file: a pipe or a device cannot be attached; save it to a file first)")
            if info.st_size > documents.MAX_BYTES:
                raise documents.too_large(kept, info.st_size)
            files.append((file_name, f.read(documents.MAX_BYTES + 1)))
    return files


@command(main, "documents")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def documents_cmd(state, as_json, instance_id):
    """列出方案的附件 (list a plan's attached files)."""
    def human(files):
        if not files:
            click.echo("此方案没有附件 (no files attached to this plan)")
        for d in files:
            _show_document(d)
    _emit(state.engine.documents(instance_id), as_json, human)


@command(main, "document")
@click.argument("document_id", type=ID)
@click.option("--output", type=click.Path(dir_okay=False),
              help="保存到此文件，默认以原文件名存入当前文件夹 (where to save it; default: its own name in this folder).")
def document_cmd(state, as_json, document_id, output):
    """下载一个附件，并核对其 SHA-256 与上传时的审计记录 (save an attached file, checked against its upload's audit record)."""
    from .errors import Conflict
    meta, content = state.engine.document(document_id)
    target = output if output is not None else meta["file_name"]
    if output is None and Path(target).exists():
        raise Conflict(f"当前文件夹已有 {target}，未覆盖；请用 --output 指定保存位置 "
                       f"({target} exists here and was not overwritten: name the file with --output)")
    with whole_file(target, "附件", "attached", binary=True) as out:
        out.write(content)
    click.echo(f"已保存附件到 {target}，SHA-256 与上传记录相符 (saved; its SHA-256 matches the upload's record)", err=True)
    _emit(meta, as_json, _show_document)


def _show_document(d: dict) -> None:
    cancelled = "（待办已撤销 task cancelled）" if d["task_status"] == "cancelled" else ""
    click.echo(f"  附件 (file) {d['id']}：{d['file_name']}（{display.file_size(d['size'])}）"
               f" 待办 (task) {d['task_id']} {display.step(d['task_name'], d['task_subject'])}{cancelled}，"
               f"{d['attached_by']} 于 {_local(d['attached_at'])} 上传"
               f"  SHA-256 {d['sha256'][:16]}…")


@command(main, "urge")
@click.argument("task_id", type=ID, metavar="TASK")
@click.option("--as", "actor", required=True, help="改革办用户名，记入审计记录 (a reform office user, recorded in the trail).")
@click.option("--note", help="催办说明，默认「请抓紧办理。」(what you expect; default 请抓紧办理。).")
def urge_cmd(state, as_json, task_id, actor, note):
    """催办：督促任务的办理人尽快办理，记入办理经过，办理人的待办中标出 (urge a step's holder: on the trail and marked in their inbox)."""
    from .urging import urge
    done = urge(state.engine, task_id, actor=actor, note=note)
    _emit(done, as_json, lambda d: click.echo(
        f"任务 {d['task_id']} 已催办过，未重复记录 (already urged just now: not recorded again)" if d["repeated"]
        else f"已催办任务 {d['task_id']} (urged)：{d['note']}"))


# ------------------------------------------------------------------------- comments
@command(main, "comment")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.argument("text")
@click.option("--as", "actor", required=True, help="留言人用户名，记入审计记录 (who comments, recorded in the trail).")
@click.option("--task", "task_id", type=ID, help="所关于的本方案任务编号 (the plan's task the comment is about).")
def comment_cmd(state, as_json, instance_id, text, actor, task_id):
    """在方案上留言（批注），如请起草人补充材料；不办结任何步骤，记入办理经过，不能修改或删除
    (comment on a plan, e.g. ask the drafter for a document; completes no step, kept in the trail for good)."""
    _emit(state.engine.comment(instance_id, text, actor=actor, task_id=task_id), as_json, _show_comment)


@command(main, "comments")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def comments_cmd(state, as_json, instance_id):
    """列出方案的留言，按时间先后 (list a plan's comments, oldest first)."""
    def human(found):
        if not found:
            click.echo("此方案没有留言 (no comments on this plan)")
        for c in found:
            _show_comment(c)
    _emit(state.engine.comments(instance_id), as_json, human)


def _show_comment(c: dict) -> None:
    who = f"{c['author_name']} ({c['author']})" if c.get("author_name") else c["author"]
    unit = f"，{c['unit']}" if c.get("unit") else ""
    about = f" 关于待办 (on task) {c['task_id']} {display.step(c['task_name'], c['task_subject'])}" if c["task_id"] else ""
    click.echo(f"  留言 (comment) {c['id']}：{who}{unit} 于 {_local(c['created_at'])}{about}")
    for line in c["text"].splitlines():
        click.echo(f"    {line}")


@command(main, "cancel")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.option("--reason", required=True, help="终止理由，记入审计记录 (why the plan is stopped).")
@click.option("--as", "actor", required=True, help="改革办用户名 (who stops it: reform office).")
def cancel_cmd(state, as_json, instance_id, reason, actor):
    """终止方案：误发起、重复发起或情况变化不再办理的，撤销其全部待办，限改革办
    (stop a plan for good: its open tasks are withdrawn; reform office only)."""
    result = state.engine.cancel_plan(instance_id, reason=reason, actor=actor)

    def human(d):
        click.echo(f"已终止方案 (plan stopped) #{d['id']} {d['title']}")
        for t in d["withdrawn"]:
            click.echo(f"  撤销待办 (task withdrawn) {t['task_id']} {t['name']}")
    _emit(result, as_json, human)


@command(main, "instance")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def instance_cmd(state, as_json, instance_id):
    """查看方案：状态、流程版本、当前待办、变量 (show a plan: status, version, active tasks, variables)."""
    def human(d):
        _show_instance(d)
        for k, v in sorted(d["variables"].items()):
            click.echo(f"    {k} = {json.dumps(v, ensure_ascii=False)}")
    _emit(state.engine.instance(instance_id), as_json, human)


@command(main, "history")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def history_cmd(state, as_json, instance_id):
    """方案的办理经过：谁在何时做了什么、填了什么 (a plan's trail: who did what, when, and what they entered)."""
    from .history import plan_history
    with state.db.reader() as s:
        result = plan_history(s, instance_id)

    def human(d):
        click.echo(f"#{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] "
                   f"业务编号 (business key) {d['business_key'] or '-'}")
        for e in d["events"]:
            who = f"{e['actor_name']} ({e['actor']})" if e["actor_name"] else e["actor"]
            if e.get("on_behalf_of"):
                who += f"（代 {e['on_behalf_name'] or e['on_behalf_of']} on behalf of {e['on_behalf_of']}）"
            click.echo(f"  {_local(e['occurred_at'])}  {who}  {_what(e)}")
    _emit(result, as_json, human)


@command(main, "archive")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.option("--output", type=click.Path(dir_okay=False),
              help="另存为 .xlsx 或 .csv 文件 (also write the archive to an .xlsx or .csv file).")
def archive_cmd(state, as_json, instance_id, output):
    """方案的决策档案：五项法定程序（公众参与、专家论证、风险评估、合法性审查、集体讨论决定）的办理记录及其审计核验
    (a plan's decision archive: the records of the five statutory procedures, checked against the audit trail)."""
    from .archive import decision_archive
    from .archive_export import step_state, values_text, verified_text, write
    with state.db.reader() as s:
        result = decision_archive(s, instance_id, clock.now())
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        click.echo(f"已写入决策档案到 {output} (decision archive written)", err=True)

    def human(d):
        click.echo(f"决策档案 (decision archive) #{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] "
                   f"业务编号 (business key) {d['business_key'] or '-'}")
        click.echo(f"  核验 (check)：{verified_text(d['verified'])}")
        if not d["classified"]:
            click.echo("  此方案的流程图未标注法定决策程序（用户任务属性 procedure），全部记录列为其他办理记录 "
                       "(the plan's diagrams name no statutory procedure: every record is under other records)")
        for number, section in enumerate(d["sections"], start=1):
            count = len(section["records"])
            if section["code"] == "other" and not count:
                continue
            click.echo(f"{number}. {section['name']} ({section['name_en']})："
                       + (f"{count} 条记录 ({display.counted(count, 'record')})" if count else "无记录 (none)"))
            for r in section["records"]:
                who = r["actor_name"] or r["actor"]
                unit = f"，{r['actor_unit']}" if r["actor_unit"] else ""
                click.echo(f"    {_local(r['occurred_at'])}  {who}（{r['actor']}{unit}）  "
                           f"{display.step(r['name'], r['subject'])}"
                           f"  [审计事件 (event) {r['seq']}]")
                if r["values"]:
                    click.echo(f"      {values_text(r['values'])}")
                for f in r["documents"]:
                    click.echo(f"      附件 (file) {f['id']}：{f['file_name']}  SHA-256 {f['sha256'][:16]}…")
        if d["other_documents"]:
            click.echo("附件，其办理环节尚未办结或已撤销 (files on steps not completed)：")
            for f in d["other_documents"]:
                click.echo(f"    {_local(f['attached_at'])}  {f['attached_by']}  "
                           f"{display.step(f['task_name'], f['task_subject'])}（{step_state(f)}）"
                           f"  附件 (file) {f['id']}：{f['file_name']}  SHA-256 {f['sha256'][:16]}…")
    _emit(result, as_json, human)


@command(main, "ledger")
@click.option("--status", type=click.Choice(["running", "completed", "cancelled", "error", "all"]), default="all",
              show_default=True, help="办理中、已办结、已终止、出错或全部 (running, completed, cancelled, error or all plans).")
@click.option("--colour", type=click.Choice(["red", "yellow", "green"]),
              help="只列此颜色的：red 红、yellow 黄、green 绿 (only plans with this warning).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--process", "process_key", help="只列此流程的方案，如 reform_plan (only plans of this process key).")
@click.option("--year", type=int, help="年度台账，如 2027：当年发起的方案及以前年度结转、1 月 1 日尚未办结的方案；"
                                       "默认为全部方案 (that year's ledger: the plans started in it and those carried "
                                       "over, still open on 1 January; default: every plan).")
@click.option("--by-unit", is_flag=True,
              help="按牵头单位汇总：方案数、红黄绿、延误 (per lead unit: plans, warnings, delays).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="另存为 .xlsx 或 .csv 文件 (also write the ledger to an .xlsx or .csv file).")
def ledger_cmd(state, as_json, status, colour, unit, process_key, year, by_unit, output):
    """改革方案台账：牵头单位、当前环节、期限及三色预警 (the ledger: lead units, current steps, deadlines, warnings).

    红 red：有期限已过而未完成；黄 yellow：曾逾期，已补上；绿 green：均按期
    (red: a deadline missed and still open; yellow: one missed and since made up; green: all on time)."""
    from .ledger import holder_text
    from .ledger_export import COLOUR_NAMES, measures_text, missed_text, title, write, write_units
    rows = state.engine.ledger(status=status, colour=colour, unit=unit, process=process_key, year=year)
    if output is not None and by_unit and output.lower().endswith(".csv"):  # one table: the sums asked for
        write_units(rows, output)
        click.echo(f"已写入按牵头单位汇总到 {output} (per-unit sums written)", err=True)
    elif output is not None:  # "" too: refused, not silently nothing written
        write(rows, output, year=year)
        click.echo(f"已写入{'' if year is None else f'{year}年度'}台账 {len(rows)} 个方案到 {output} "
                   f"(ledger of {display.counted(len(rows), 'plan')} written)", err=True)
    # a year's ledger names its year; without --year the output is as it always was
    shown = {} if year is None else {"year": year}

    if by_unit:
        from .ledger import by_unit as per_unit
        _emit({**shown, "units": per_unit(rows)}, as_json, lambda d: [click.echo(
            f"{u['lead_unit'] or '（未填）'}：{u['plans']} 个方案，红 {u['red']}、黄 {u['yellow']}、绿 {u['green']}；"
            f"延误 {u['missed']} 项，共 {u['days_late']} 天{_unit_measures(u, 'zh')} ({display.counted(u['plans'], 'plan')}: "
            f"{u['red']} red, {u['yellow']} yellow, {u['green']} green; {display.counted(u['missed'], 'delay')}, "
            f"{display.counted(u['days_late'], 'day')}"
            f"{_unit_measures(u, 'en')})") for u in d["units"]])
        return

    def human(d):
        if year is not None:
            click.echo(f"{title(year)}：{year} 年发起及以前年度结转（1 月 1 日尚未办结）的方案 "
                       f"(the {year} ledger: plans started in {year} and those carried over, still open on 1 January)")
        for r in d["plans"]:
            who = "，".join(filter(None, [r["lead_unit"], r["responsible_person"]]))
            key = f"{r['business_key']} " if r["business_key"] else ""  # a plan and its implementation share a title
            # coloured on a terminal; click leaves the colour out when the output is a file or a pipe
            tag = click.style(f"[{COLOUR_NAMES[r['colour']]} {r['colour']}]", fg=r["colour"], bold=True)
            carried = " [结转 carried over]" if r["carried_over"] else ""
            click.echo(f"{tag} #{r['id']} {key}{r['title']}{f'（{who}）' if who else ''} "
                       f"[{_label(_PLAN_STATUS, r['status'])}]{carried}")
            for t in r["current"]:
                due = f" 期限 (due) {_deadline(t['due_at'], True)}" if t["due_at"] else ""
                click.echo(f"    当前 (now)：{display.step(t['name'], t['subject'])}（{holder_text(t, '待认领 (open)')}）{due}")
            if r["milestone_due"]:
                reached = f"，已于 {r['milestone_reached']} 完成 (reached)" if r["milestone_reached"] else \
                    f"，{r['milestone_dropped']} 未获通过，不再办理 (dropped: not approved)" if r["milestone_dropped"] else ""
                click.echo(f"    节点 (milestone)：{r['milestone']} 计划 (planned) {r['milestone_due']}{reached}")
            if r["measures"]:
                click.echo(f"    举措 (measures)：{measures_text(r['measures'])}")
            for m in r["missed"]:
                click.echo(f"    延误 (missed)：{missed_text(m, english=True)}")
        counts = {c: sum(r["colour"] == c for r in d["plans"]) for c in COLOUR_NAMES}
        click.echo(f"共 {len(d['plans'])} 个方案：红 {counts['red']}、黄 {counts['yellow']}、绿 {counts['green']} "
                   f"({display.counted(len(d['plans']), 'plan')}: {counts['red']} red, {counts['yellow']} yellow, {counts['green']} green)")
        if carried := sum(r["carried_over"] for r in d["plans"]):
            click.echo(f"其中以前年度结转 {carried} 个 ({carried} carried over from earlier years)")
    _emit({**shown, "plans": rows}, as_json, human)


@command(main, "bulletin")
@click.option("--quarter", help="季度，如 2026Q4 或 2026年第四季度；默认为最近结束的季度 "
                                "(the quarter, e.g. 2026Q4; default: the latest quarter that has ended).")
@click.option("--all", "everything", is_flag=True,
              help="另列其他实施中的方案（月报，不经专项小组审核） (also the other plans in implementation).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="另存为 .xlsx 或 .csv 文件 (also write the bulletin to an .xlsx or .csv file).")
def bulletin_cmd(state, as_json, quarter, everything, unit, output):
    """季度通报：季末报专项小组审核的方案本季度进度表的报送、审核及季末预警
    (the quarterly bulletin: each quarterly plan's table for the quarter, filed and reviewed or not).

    逾期未报送、未审核通过、迟报的方案标【！】列在前面
    (plans whose table is missing, not approved or late are marked and listed first)."""
    from .bulletin_export import lines, write
    result = state.engine.bulletin(quarter, everything=everything, unit=unit)
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["plans"]) + len(result.get("others", []))
        click.echo(f"已写入{result['label']}通报 {count} 个方案到 {output} "
                   f"(bulletin of {display.counted(count, 'plan')} written)", err=True)
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])


@command(main, "supervision")
@click.option("--year", type=int, help="年度，如 2027：列当年实施中的方案；默认为现在实施中的方案 "
                                       "(the plans in implementation during that year; default: those now).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="另存为 .xlsx 或 .csv 文件 (also write the ledger to an .xlsx or .csv file).")
def supervision_cmd(state, as_json, year, unit, output):
    """督察整改台账：实施中方案的督察、整改意见书及整改、复核、复查、约谈情况
    (the supervision and rectification ledger of the plans in implementation).

    逾期未督察、整改逾期未报告的方案标【！】列在前面
    (plans not supervised by their due date and rectifications past their deadline are marked and listed first)."""
    from .supervision_export import lines, write
    result = state.engine.supervision(year=year, unit=unit)
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["plans"])
        click.echo(f"已写入督察整改台账 {count} 个方案到 {output} "
                   f"(supervision ledger of {display.counted(count, 'plan')} written)", err=True)
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])



@command(main, "stats")
@click.option("--as", "actor", required=True, help="改革办用户名 (who asks: reform office).")
@click.option("--since", help="统计办结日期自此日起，如 2026-01-01；默认为今年 1 月 1 日 "
                              "(count the steps completed from this date; default: 1 January this year).")
@click.option("--until", help="至此日止（含），如 2026-12-31；默认为该年 12 月 31 日 "
                              "(up to and including this date; default: 31 December of that year).")
@click.option("--process", "process_key", help="只统计此流程的环节，如 legality_review (only the steps of this process key).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table", show_default=True,
              help="table 逐行列出；csv 输出到标准输出或 --output；xlsx 须给 --output "
                   "(table: a line a step; csv: to standard output or --output; xlsx: needs --output).")
@click.option("--by-unit", is_flag=True,
              help="按牵头单位汇总：办结数、工作日中位数、逾期办结、在办逾期 (per lead unit: completed, median, late, overdue).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="另存为 .xlsx 或 .csv 文件 (also write the statistics to an .xlsx or .csv file).")
def stats_cmd(state, as_json, actor, since, until, process_key, fmt, by_unit, output):
    """办理时效统计：各流程各环节办结数、办理用时（工作日、自然日的中位数、90% 分位数、最长）、逾期办结及在办逾期，最慢的环节在前
    (how long each step takes: steps completed, median, 90th percentile and longest time in working and
    calendar days, late completions, open and overdue steps; the slowest step first)."""
    from . import step_times_export as export
    if fmt == "xlsx" and output is None:
        raise BadValue("--format xlsx 须与 --output FILE.xlsx 同用", "--format xlsx needs --output FILE.xlsx")
    if fmt != "table" and output is not None and not output.lower().endswith(f".{fmt}"):
        raise BadValue(f"--format {fmt} 的文件须以 .{fmt} 结尾：{output}", f"--format {fmt} writes a .{fmt} file")
    result = state.engine.step_times(actor, since=since, until=until, process=process_key)
    # --by-unit: a .csv holds one table, the per-unit figures asked for (an .xlsx has both sheets)
    write = export.write_units if by_unit and (output is None or output.lower().endswith(".csv")) else export.write
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["steps"])
        click.echo(f"已写入办理时效统计 {count} 个环节到 {output} "
                   f"(statistics of {display.counted(count, 'step')} written)", err=True)
    elif fmt == "csv" and not as_json:
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "stats.csv"
            write(result, str(path))
            click.echo(path.read_text(encoding="utf-8-sig"), nl=False)
        return
    lines = export.unit_lines if by_unit else export.lines
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])


def _unit_measures(unit: dict, language: str) -> str:
    """A lead unit's measures in implementation, if it has any."""
    if not unit["measures"]:
        return ""
    if language == "zh":
        return f"；举措 {unit['measures']} 项，已完成 {unit['measures_done']} 项"
    return f"; {display.counted(unit['measures'], 'measure')}, {unit['measures_done']} done"


def _lint_skipped(state: str) -> str:
    """Why the Modeler lint did not run, Chinese first (the reason itself is the toolchain's English)."""
    return f"未运行 ({state})" if state.startswith("skipped") else state


def _what(e: dict) -> str:
    """One event of a plan's trail, said in a line: Chinese with the English in brackets
    (engine/trail_text.py says it in one language for the web page)."""
    from .trail_text import said
    return said(e)


# ------------------------------------------------------------------------- events from outside
@command(main, "message")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.argument("name")
@click.option("--as", "actor", required=True, help="发送人用户名 (who sends).")
@click.option("--data", help="随消息发送的变量，JSON 对象 (variables sent with the message).")
def message_cmd(state, as_json, instance_id, name, actor, data):
    """向等待消息 NAME（如 材料补正）的方案发送该消息 (send the message NAME to one plan that waits for it)."""
    from .events import send_message
    _emit(send_message(state.engine, instance_id, name, actor=actor, data=_json_data(data)),
          as_json, _show_instance)


@command(main, "signal")
@click.argument("name")
@click.option("--as", "actor", required=True, help="改革办用户名 (who signals: reform office).")
@click.option("--data", help="随信号发送的变量，JSON 对象 (variables sent with the signal).")
def signal_cmd(state, as_json, name, actor, data):
    """向所有等待信号 NAME 的方案广播，限改革办 (broadcast the signal NAME to every waiting plan; reform office only)."""
    from .events import send_signal
    result = send_signal(state.engine, name, actor=actor, data=_json_data(data))
    _emit(result, as_json, lambda d: click.echo(
        f"信号 {d['signal']} 已送达 {len(d['delivered'])} 个方案 (signal delivered to {len(d['delivered'])} plan(s))"
        + "".join(f"\n  方案 (plan) {r['instance_id']}：{', '.join(r['elements'])}" for r in d["delivered"])))


# ------------------------------------------------------------------------- timers
@main.group()
def timers():
    """定时器和期限 (timers and deadlines)."""


def _timer_progress(plans: int) -> None:
    """A backlog bigger than one batch (after the worker was down): say how far it has got."""
    click.echo(f"已处理一批到期定时器，{plans} 个方案已触发，继续… (timers fired in {plans} plan(s) so far)", err=True)


def _timer_failed(failures: list | None = None, *, retrying: bool = False):
    """Reports a plan whose timer could not run on, on standard error (and collects it); the
    worker (`retrying`) also says when it tries the plan again."""
    def report(instance_id: int, exc: ReformflowError, retry) -> None:
        line = f"reformflow: 方案 {instance_id} 的定时器未能触发 (plan {instance_id}: timer not fired): {exc.kind}: {exc.message}".replace("\n", " ")
        if retrying:
            at = _local(retry.next_try.isoformat())
            line += f" [第 {retry.attempts} 次失败，{at} 再试 (failed {retry.attempts} time(s); next try {at})]"
        click.echo(line, err=True)
        if failures is not None:
            failures.append({"instance_id": instance_id, **exc.to_dict()})
    return report


@command(timers, "run")
def timers_run(state, as_json):
    """触发当前到期的定时器，一次 (fire every timer that is due now, once)."""
    failed: list[dict] = []
    fired = state.engine.fire_due_timers(progress=_timer_progress, on_error=_timer_failed(failed))
    _emit({"fired": fired, "failed": failed}, as_json,
          lambda d: click.echo(f"已触发 {len(d['fired'])} 个方案的定时器 (fired timers in {len(d['fired'])} plan(s))"
                               + (f"；{len(failed)} 个方案失败，见上文 ({len(failed)} plan(s) failed, see above)"
                                  if failed else "")))
    if failed:  # the others fired; the exit status says not everything did
        sys.exit(EXIT_CODES[failed[0]["error"]])


@command(main, "worker")
@click.option("--interval", default=30.0, show_default=True, type=FloatRange(0, 86400, "须为 0 至 86400 秒"),
              help="两轮之间的秒数 (seconds between rounds).")
@click.option("--rounds", type=IntRange(1, None, "须为 1 或更大的整数；一直运行请不写 --rounds"), help="运行这么多轮后停止，默认一直运行 (stop after this many rounds; default: run until stopped).")
def worker_cmd(state, as_json, interval, rounds):
    """持续触发到期定时器，与网页进程并行运行一个或多个 (keep firing due timers, next to the web workers)."""
    _ = state.engine  # a --db URL reformflow cannot use is refused at once: waiting will not mend it
    run_worker(state, as_json, interval, rounds)


def run_worker(state, as_json: bool, interval: float, rounds: int | None = None, stop=None) -> None:
    """Fire due timers every `interval` seconds, `rounds` times or until `stop` (a
    threading.Event) is set: `reformflow worker`, and the worker `reformflow web` runs beside
    the web inbox."""
    warned = False
    done = 0
    while rounds is None or done < rounds:
        failed: list[dict] = []
        try:
            if not warned:
                # Reads the database: one still down at boot is retried like a lost connection,
                # instead of exiting until systemd's start limit gives up on the worker.
                _warn_calendar_gaps(state)
                warned = True
            # one bad plan must not stop the worker, nor the plans due after it
            fired = state.engine.fire_due_timers(progress=_timer_progress,
                                                 on_error=_timer_failed(failed, retrying=True))
        except Exception as exc:  # noqa: BLE001 - a lost connection or a restart: try again next round
            click.echo(f"worker: 本轮未能运行，{interval:g} 秒后重试 ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}; retrying in {interval:g} s)", err=True)
            fired = []
        _worker_mail(state, as_json)  # after the timers, whatever became of them
        if as_json and (fired or failed):  # one line per round for a log collector, failures included
            click.echo(json.dumps({"at": clock.now().isoformat(), "fired": fired, "failed": failed},
                                  ensure_ascii=False))
        elif fired:
            click.echo(f"{clock.now().isoformat()} 已触发 {len(fired)} 个方案的定时器 (fired timers in {len(fired)} plan(s))")
        done += 1
        if rounds is None or done < rounds:
            if stop is None:
                time.sleep(interval)
            elif stop.wait(interval):
                return


def _worker_mail(state, as_json: bool) -> None:
    """The worker's round of mail: a mail server down or misconfigured is said on standard error
    and must never stop the timers."""
    from . import mail_sender
    try:
        settings = mail_sender.SmtpSettings.from_env()
        if settings is None:
            return  # nothing to send with: the mails stay queued (`reformflow mail status`)
        done = mail_sender.send_due(state.engine.db, settings)
    except Exception as exc:  # noqa: BLE001 - the timers' worker goes on; the next round tries again
        click.echo(f"worker: 本轮邮件未能发送 (mail not sent this round: {type(exc).__name__}: "
                   f"{str(exc).splitlines()[0] if str(exc) else ''})", err=True)
        return
    for e in done["errors"]:
        click.echo(f"worker: 邮件 {e['id']} 发送失败，稍后重试 (mail {e['id']} not sent, will retry): {e['error']}",
                   err=True)
    if done["sent"]:
        if as_json:
            click.echo(json.dumps({"at": clock.now().isoformat(), "mail_sent": done["sent"]}))
        else:
            click.echo(f"{clock.now().isoformat()} 已发送 {done['sent']} 封邮件 (mails sent: {done['sent']})")


@main.group()
def mail():
    """邮件提醒的发件箱 (the outbox of mail notifications)."""


@command(mail, "send")
def mail_send(state, as_json):
    """立即发送到期的邮件一次（worker 每轮也会发送） (send the mails due now, once; the worker does this each round)."""
    from . import mail_sender
    settings = mail_sender.SmtpSettings.from_env()
    result = mail_sender.send_due(state.engine.db, settings)

    def human(d):
        if not d["configured"]:
            click.echo("未配置 SMTP（REFORMFLOW_SMTP_HOST），未发送任何邮件，邮件留在队列中 "
                       "(no SMTP configured: nothing sent, the mails stay queued)")
            return
        click.echo(f"已发送 {d['sent']} 封，失败待重试 {d['failed']} 封，放弃 {d['gave_up']} 封 "
                   f"(sent {d['sent']}, failed {d['failed']}, given up {d['gave_up']})")
        for e in d["errors"]:
            click.echo(f"  邮件 (mail) {e['id']}：{e['error']}")
    _emit(result, as_json, human)
    if result["configured"] and (result["failed"] or result["gave_up"]):
        sys.exit(1)


@command(mail, "status")
def mail_status(state, as_json):
    """发件箱状态：排队、已发送、失败的数量，最早排队的时间 (the outbox: queued, sent and failing counts, the oldest queued)."""
    from . import mail_outbox, mail_sender
    configured = mail_sender.SmtpSettings.from_env() is not None
    with state.engine.db.reader() as session:
        result = mail_outbox.status(session, configured=configured)

    def human(d):
        if not d["configured"]:
            click.echo("未配置 SMTP（REFORMFLOW_SMTP_HOST）：邮件不会发出，留在队列中 "
                       "(no SMTP configured: mails are not sent, they stay queued)")
        oldest = f"，最早排队于 {display.minute(d['oldest_queued_at'])} (oldest queued)" if d["oldest_queued_at"] else ""
        click.echo(f"排队 {d['queued']} 封（其中失败待重试 {d['failing']} 封），已发送 {d['sent']} 封，已放弃 "
                   f"{d['gave_up']} 封{oldest} (queued {d['queued']}, of them failing {d['failing']}; sent "
                   f"{d['sent']}; given up {d['gave_up']})")
        for m in d["failures"]:
            state_text = "已放弃 given up" if m["gave_up"] else f"下次重试 (next try) {display.minute(m['next_try_at'])}"
            click.echo(f"  {m['id']} {m['username']} <{m['address']}> 尝试 (attempts) {m['attempts']}，{state_text}："
                       f"{m['last_error']}")
    _emit(result, as_json, human)


@command(main, "web")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 (address to listen on).")
@click.option("--port", default=5000, show_default=True, type=IntRange(1, 65535, "须为 1 至 65535"), help="端口 (port).")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="在同一进程中运行定时器工作进程；多个网页进程时只在一处运行 (run the timer worker in this process; with several web processes, run it in one place only).")
@click.option("--interval", default=30.0, show_default=True, type=FloatRange(0.1, 86400, "须为 0.1 至 86400 秒"),
              help="定时器两轮之间的秒数 (seconds between timer rounds).")
def web_cmd(state, as_json, host, port, worker, interval):
    """运行网页待办 http://127.0.0.1:5000 及定时器 (serve the web inbox, with the timer worker).

    一个进程，供本机试用和 make run；正式运行用 gunicorn 多进程，另起一个 reformflow worker，见
    docs/operations.md (one process for trying it out; in production gunicorn's web workers and
    one `reformflow worker`, docs/operations.md section 2a)."""
    import threading

    from werkzeug.serving import run_simple

    from web import create_app
    app = create_app(engine=state.engine)
    stop = threading.Event()
    if worker:
        threading.Thread(target=run_worker, args=(state, as_json, interval, None, stop),
                         name="reformflow-timers", daemon=True).start()
    click.echo(f"网页待办 (web inbox): http://{host}:{port}/  Ctrl+C 停止 (to stop)"
               + ("；定时器每 %g 秒运行一轮 (timers every %g s)" % (interval, interval) if worker else ""))
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stop.set()


# ------------------------------------------------------------------------- audit
@main.group()
def audit():
    """审计记录 (the audit trail)."""


@command(audit, "export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]),
              help="导出格式，默认 jsonl；--output 以 .csv 结尾时为 csv (export format; default jsonl, csv for an --output ending in .csv).")
@click.option("--instance", "instance_id", type=PLAN, help="只导出此方案的事件，编号或业务编号 (only this plan's events: id or business key).")
@click.option("--output", type=click.Path(dir_okay=False), help="写入的文件，默认标准输出 (file to write; default: standard output).")
def audit_export(state, as_json, fmt, instance_id, output):
    """导出审计事件，含全部字段，可重算每个哈希 (export audit events, every field, so each hash can be recomputed).

    --json 且无 --output：标准输出一个 JSON 文档 {"events": [...]} (one JSON document on standard output)."""
    from .audit import export
    from .errors import Invalid
    if fmt is None:  # a file named .csv is opened by Excel: JSON lines in it would be one column of braces
        fmt = "csv" if output and output.lower().endswith(".csv") else "jsonl"
    if as_json and not output and fmt == "csv":
        raise Invalid("--json 输出 JSON，不能同时输出 CSV；CSV 请用 --output 写入文件"
                      " (--json prints JSON: write CSV with --output FILE)")
    with state.db.reader() as s:
        if output:
            with whole_file(output, "审计记录", "audit export") as out:
                if fmt == "csv":
                    out.write("\ufeff")  # the byte-order mark Excel needs to read Chinese, as in the ledger's .csv
                count = export(s, out, fmt, instance_id)
            _emit({"events": count, "output": output}, as_json,
                  lambda d: click.echo(f"已写入 {d['events']} 个事件到 {d['output']} ({d['events']} events written)", err=True))
        else:
            export(s, _Stdout(), "json" if as_json else fmt, instance_id)


class _Stdout:
    """Standard output as a file for csv/json writers, through click.echo (which handles the
    encoding and the test runner) instead of the deprecated click.get_text_stream."""

    @staticmethod
    def write(text: str) -> None:
        click.echo(text, nl=False)


@command(audit, "anchor")
@click.option("--output", type=click.Path(dir_okay=False), help="写入的文件，默认标准输出 (file to write; default: standard output).")
@click.option("--as", "actor", required=True, help="锚定人，记入审计记录：在职用户 (who anchors, recorded in the trail: an active user).")
def audit_anchor(state, as_json, output, actor):
    """为哈希链末端记录锚点，由审计人员保存在数据库之外 (record an anchor of the chain's tip to keep outside the database).

    Prints {"seq", "hash", "recorded_at", "events", "database"}; `audit verify --anchor FILE`
    later proves nothing up to that event was cut or rewritten. Refused on a broken chain."""
    from .audit import anchor, public_url, verify
    with state.db.reader() as s:
        checked = verify(s)
    if not checked.ok:
        for p in checked.problems:
            click.echo(p, err=True)
        click.echo(f"reformflow: 审计记录已损坏，不能锚定 (audit trail broken, not anchored): "
                   f"{len(checked.problems)} problem(s)", err=True)
        sys.exit(1)

    def record() -> dict:
        with state.engine.command(actor) as ctx:
            state.engine._member(ctx, actor)  # recorded as who anchored: a known, active user, as for every --as
            return anchor(ctx.session, actor, ctx.now, public_url(state.db.url))
    if output:
        # the file is begun before the anchor is recorded: no anchor in the trail that could not be kept
        with whole_file(output, "锚点", "anchor") as out:
            document = record()
            out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        _emit(document | {"output": output}, as_json,
              lambda d: click.echo(f"事件 {d['seq']} 的锚点已写入 {d['output']}，请保存在数据库之外 (anchor of event "
                                   f"{d['seq']} written: keep it outside the database)", err=True))
    else:
        click.echo(json.dumps(record(), ensure_ascii=False, indent=2))  # the document itself, with or without --json


class _VerifyProgress:
    """Progress of a long verify on standard error (stdout stays the result): a line each
    EVERY events, so a chain checked within a second or two prints none."""
    EVERY = 20_000

    def __init__(self):
        self.shown = 0

    def __call__(self, checked: int, expected: int) -> None:
        if checked - self.shown >= self.EVERY:
            self.shown = checked
            click.echo(f"校验中 (verifying)：{checked}/{expected} 个事件 (events)，{checked * 100 // expected}%", err=True)

    FILE_BYTES = 256 * 1024 * 1024  # a line each 256 MB of files read: several seconds on PostgreSQL
    files_shown = 0

    def files(self, checked: int, expected: int, read: int, total: int) -> None:
        if read - self.files_shown >= self.FILE_BYTES:
            self.files_shown = read
            click.echo(f"校验附件中 (checking files)：{checked}/{expected} 个 (files)，{read // 1024 // 1024}/"
                       f"{total // 1024 // 1024} MB，{read * 100 // total}%", err=True)


@command(audit, "verify")
@click.option("--anchor", "anchor_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="`audit anchor` 写出的锚点文件，可重复 (an anchor written by `audit anchor`, repeatable).")
def audit_verify(state, as_json, anchor_files):
    """校验整条哈希链和每个锚点，全部完好才返回 0 (check the whole hash chain and each anchor; exit 0 only if all is intact)."""
    from .audit import read_anchor, verify
    from .errors import Invalid
    anchors = []
    for path in anchor_files:
        try:
            anchors.append(read_anchor(Path(path).read_text(encoding="utf-8"), source=path))
        except ValueError as exc:
            raise Invalid(f"{path}: {exc}") from None
    with state.db.reader() as s:
        shown = _VerifyProgress()
        result = verify(s, anchors=anchors, progress=shown, file_progress=shown.files)

    def human(d):
        if d["ok"]:
            files = f"，{d['files']} 个附件与上传记录相符 ({display.counted(d['files'], 'file')} checked)" if d["files"] else ""
            click.echo(f"审计记录完好 (audit trail intact)：{d['events']} 个事件{files}，末端哈希 (head) {d['head_hash']}")
        for p in d["problems"]:
            click.echo(p)
        for a in d["anchors"]:
            if a["status"] == "ok":
                click.echo(f"锚点 {a['source']} 相符：事件 {a['seq']} 未被改动，其后追加了 "
                           f"{a['appended_after']} 个事件 (anchor matches event {a['seq']}; "
                           f"{a['appended_after']} event(s) appended since)")
        for n in d["notes"]:
            click.echo(f"注意 (note): {n}")
    _emit(result.to_dict(), as_json, human)
    if not result.ok:
        click.echo(f"reformflow: 审计记录已损坏 (audit trail broken: {len(result.problems)} problem(s))", err=True)
        sys.exit(1)


def run() -> None:
    """The console script: like `main`, but a usage error (a bad option, a missing file) is
    answered in JSON too when --json was asked for, as every other refusal is."""
    try:
        # the name in usage lines is the command people type, however Python was started
        # (click would say "python -m pytest" under `python -m pytest`)
        main(prog_name="reformflow", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中止 (Aborted!)", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        message = exc.format_message()
        misplaced = isinstance(exc, click.NoSuchOption) and exc.option_name in GLOBAL_OPTIONS
        if misplaced:  # `reformflow check --db URL`: click only knows the command has no --db
            usage = f"reformflow {exc.option_name} {GLOBAL_OPTIONS[exc.option_name]}"
            message = (f"全局选项须写在命令之前：{usage} <命令> … (global options go before the command: "
                       f"{usage} <command> …)")
        elif isinstance(exc, click.NoSuchOption) and exc.option_name == "--json" and exc.ctx \
                and exc.ctx.command is main:  # `reformflow --json tasks`: --json belongs to each command
            misplaced = True
            message = ("--json 须写在命令之后：reformflow <命令> … --json "
                       "(--json goes after the command: reformflow <command> … --json)")
        if "--json" in sys.argv[1:]:
            click.echo(json.dumps({"error": "invalid", "message": message}, ensure_ascii=False))
        if isinstance(exc, click.BadParameter) or misplaced:  # a refusal like any other: one line
            click.echo(f"reformflow: invalid: {message}", err=True)
        else:
            exc.show()
        sys.exit(exc.exit_code)


# The options of `main` itself, valid only before the command (with what follows each).
GLOBAL_OPTIONS = {"--db": "URL", "--now": "ISO8601"}


if __name__ == "__main__":
    run()
