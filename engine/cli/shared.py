"""What every command runs through: the `reformflow` group with its global options (--db, --now)
and the State they set up, the `command` decorator that adds --json and turns a refusal into
its exit code, and reading what a command is given (--data, files to attach).

A module of its own, not the package's __init__, so the command modules can hang their
commands on `main` without importing the package that imports them.
"""
from __future__ import annotations

import functools
import json
import math
import sys
from datetime import datetime
from pathlib import Path

import click

from .. import clock
from ..errors import ReformflowError
from ..forms import refuse_surrogates
from .params import YEARS, BadValue, _plan_id


EXIT_CODES = {"invalid": 3, "forbidden": 4, "not_found": 5, "conflict": 6, "unauthorized": 7, "unavailable": 8}


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

            from ..commands import Engine
            from ..errors import Invalid
            try:
                database = Database(self.db_url, create=self.create)
            except (ArgumentError, ImportError) as exc:  # not a URL, or a database kind we have no driver for
                raise Invalid(f"数据库地址无法使用，请检查 --db / REFORMFLOW_DATABASE_URL，如 "
                              f"sqlite:///instance/reformflow.sqlite3 或 postgresql://user@host/db "
                              f"(not a database URL reformflow can use: {str(exc).splitlines()[0]})") from None
            if not self.create and (refusal := _another_schema(database)) is not None:
                database.dispose()
                raise Invalid(refusal)
            from ..channels import CLI_CHANNEL
            self._engine = Engine(database).via(CLI_CHANNEL)  # each event says it came from the command line
        return self._engine

    @property
    def db(self):
        return self.engine.db


def _another_schema(database) -> str | None:
    """Why a command may not use this database (its schema is not this program's), checked before
    anything is read or written: a command of an older release (a cron job, a shell left open) must
    not write into the schema an upgrade made, rows lacking what its migrations fill in, nor one of
    this release into a schema not yet upgraded. One SELECT (Database.schema_versions). `init`, which
    upgrades, checks its own way."""
    from sqlalchemy.exc import DBAPIError
    try:
        versions = database.schema_versions()
    except DBAPIError:  # not reachable, or no rights: the command's own first statement says which
        return None
    # no schema yet: the command's first statement fails and is told to run init (_database_unusable)
    return None if versions[0] is None else database.schema_refusal(versions)


def _emit(data, as_json: bool, human) -> None:
    if as_json:
        click.echo(json.dumps(_with_due_on(data), ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


_RECORDED = frozenset({"payload", "old", "new"})


def _with_due_on(data):
    """Each object with a `due_at` also gives `due_on`, its Beijing date, as the JSON API does:
    a deadline is stored as the next Beijing midnight (2027-02-20T16:00:00+00:00 is 20 February),
    which a script reading the UTC date would take for the day after."""
    from ..ledger import due_on
    if isinstance(data, list):
        return [_with_due_on(item) for item in data]
    if not isinstance(data, dict):
        return data
    # an audit event's payload is the recorded text (its hash's), not an object to add to
    shown = {key: value if key in _RECORDED else _with_due_on(value) for key, value in data.items()}
    if "due_at" in data and "due_on" not in data:
        shown["due_on"] = due_on(data["due_at"])
    return shown


def _written(summary: dict, as_json: bool, line: str) -> None:
    """What a command with --output says once the file is written, instead of also printing what
    it wrote: one line on standard error (standard output stays empty, as for `audit export
    --output`), or with --json the summary as JSON on standard output."""
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        click.echo(line, err=True)


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
                for name, value in params.items():  # a byte typed that is not UTF-8: refused, naming its option
                    refuse_surrogates(value, _param_name(name))
                params = {name: _plan_id(state, value) for name, value in params.items()}
                return fn(state, as_json, **params)
            except ReformflowError as exc:
                _refuse(exc, as_json)
            except DBAPIError as exc:  # a database never initialised, not reachable, or not ours to use
                from ..errors import Busy, Invalid
                if exc.connection_invalidated:  # lost mid-command: not a setting to correct, but to run again
                    _refuse(Busy(_connection_lost(exc)), as_json)
                _refuse(Invalid(_database_unusable(exc)), as_json)
        return wrapper
    return decorate


def _param_name(name: str) -> str:
    """A command's parameter as its user typed it: --note, or KEY."""
    found = next((p for p in click.get_current_context().command.params if p.name == name), None)
    if found is None:
        return name
    return found.opts[0] if isinstance(found, click.Option) else found.human_readable_name


def _connection_lost(exc) -> str:
    """A connection that broke while the command ran (the server restarted, the session ended by an
    administrator, the network): exit 8, as a busy database, since running it again will most likely do."""
    from ..commands import unreachable
    reason = unreachable(exc) or str(exc.orig)
    # lost at the very COMMIT, the server may have saved it: a start or a comment run again is a second one
    return (f"数据库连接在办理中断开：{reason}。本次操作可能没有完成：请先用 reformflow instance 或 reformflow tasks 查看"
            f"是否已经保存，没有保存的再运行一次 (the database connection was lost during the command, which may not "
            f"have completed: look with reformflow instance or reformflow tasks whether it was saved, and run it again "
            f"if it was not)")


def _database_unusable(exc) -> str:
    from models.db import LOCK_WAIT_SECONDS
    reason = str(exc.orig).split("\n")[0]
    if getattr(exc.orig, "sqlstate", None) == "42501" or "permission denied" in reason.lower():
        # the role lacks rights: running init again as the same role cannot help
        return (f"数据库无法使用：{reason}。当前角色权限不足：请以数据库属主角色运行 `reformflow init`，"
                f"并由属主为应用角色运行 ops/grant_app_role.sql（见 docs/operations.md §1） (database not "
                f"usable: this role lacks rights; run `reformflow init` as the database owner role, and "
                f"ops/grant_app_role.sql for the app role, see docs/operations.md section 1)")
    if getattr(exc.orig, "sqlstate", None) == "55P03":
        # a table the command needs is held past lock_timeout (a pg_dump, a psql session left open):
        # `init` itself is refused so, and running it again at once would wait the same way
        return (f"数据库无法使用：{reason}。所需的表正被其他会话占用（例如正在进行的 pg_dump、未结束的 psql 会话），"
                f"等待 {LOCK_WAIT_SECONDS} 秒后放弃，未做任何更改：请在 pg_stat_activity 中查看并结束它，或等它结束后再运行 "
                f"(database not usable: a table it needs is held by another session, such as a pg_dump under way or a "
                f"psql session left open; gave up after {LOCK_WAIT_SECONDS} s and changed nothing. Look it up in "
                "pg_stat_activity and end it, or run the command again once it is over)")
    if getattr(exc.orig, "sqlstate", None) == "3D000" or ('database "' in reason and "does not exist" in reason):
        # a PostgreSQL database is created by its administrator: init only fills it
        return (f"数据库无法使用：{reason}。PostgreSQL 数据库须先由其管理员创建（createdb，见 docs/operations.md §1），"
                f"再运行 `reformflow init`；否则检查 --db / REFORMFLOW_DATABASE_URL (database not usable: the "
                f"database does not exist; create it first with createdb, then run `reformflow init`)")
    from ..commands import unreachable
    if unreachable(exc) is not None and "no database file" not in reason:
        # the server, the address or the role: init cannot help (it would connect the same way)
        return (f"无法连接数据库：{reason}。请检查 --db / REFORMFLOW_DATABASE_URL 中的主机、端口、数据库名和角色，"
                f"该角色的密码（~/.pgpass 或 PGPASSWORD，见 docs/operations.md §1），以及数据库服务器是否在运行 "
                f"(cannot connect to the database: check the URL's host, port, database name and role, the "
                f"role's password in ~/.pgpass or PGPASSWORD, and that the server is running)")
    if getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in reason or "no database file" in reason:
        # no tables yet (or no SQLite file where the command ran): a new database
        return (f"数据库无法使用：{reason}。新数据库请先运行 `reformflow init`；"
                f"否则检查 --db / REFORMFLOW_DATABASE_URL (database not usable: a new database needs "
                f"`reformflow init` first)")
    return (f"数据库无法使用：{reason}。请检查 --db / REFORMFLOW_DATABASE_URL；升级 reformflow 后须以属主角色运行 "
            f"`reformflow init` (database not usable: check the URL; after an upgrade, run `reformflow init` as "
            f"the owner role)")


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
    from ..errors import Invalid

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
    refuse_surrogates(data, "--data")  # "\ud800" is JSON
    return data


def _read_attachments(paths, name: str | None = None) -> list[tuple[str, bytes]]:
    """Each file's name (or `name`) and bytes. The name and kind are checked before anything is
    read, and only a regular file is read, no further than one byte past the size limit: a pipe
    would wait for a writer forever, a device such as /dev/zero never ends."""
    import os
    import stat
    from .. import documents
    from ..errors import Invalid
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
