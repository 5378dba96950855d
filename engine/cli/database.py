"""`reformflow init`: creating or upgrading the database, optionally with the demo."""
from __future__ import annotations

from pathlib import Path

import click

from .calendar import _warn_calendar_gaps
from .shared import _emit, command, main


@command(main, "init")
@click.option("--demo", is_flag=True, help="加入演示单位、角色、用户和方案 (add demo units, groups, users and plans).")
def init_cmd(state, as_json, demo):
    """创建或升级数据库结构，可加载演示数据 (create or upgrade the database schema, optionally with demo data)."""
    state.create = True
    _make_folder_for(state.db.url)
    _refuse_a_newer_schema(state)
    _tighten_file_modes(state.db.url)
    before, after = state.db.upgrade()
    _warn_calendar_gaps(state)
    schema = "created" if before is None else "up to date" if before == after else "upgraded"
    from ..audit import public_url  # init's output lands in logs: never the password
    result = {"database": public_url(state.db.url), "schema": schema, "previous_revision": before, "revision": after}
    if demo:
        held = _held(state)
        if held is not None:
            # `deploy` or `users add` ran first: the demo's people and plans would mix with the
            # office's own (and its users clash), so none goes in; said as it is, not "already loaded"
            result["demo"] = {"loaded": False, "reason": "database_not_empty", **held}
            if not as_json:
                click.echo(_not_empty_line(held))
        else:
            from ..demo import load_demo
            from ..workdays import unlogged
            with unlogged():  # init says a year nobody entered itself, once, with the command that mends it
                result["demo"] = load_demo(state.engine, progress=None if as_json else click.echo)
    _emit(result, as_json, lambda d: click.echo(_schema_line(d)))


def _refuse_a_newer_schema(state) -> None:
    """A database a newer release upgraded (a rollback run in the wrong order): Alembic cannot go
    from a migration it does not have, and said so in a traceback. Refused as `web` and `worker`
    refuse it, before anything is changed."""
    from ..errors import Invalid
    versions = state.db.schema_versions()
    if not versions[2]:
        raise Invalid(state.db.schema_refusal(versions))


def _held(state) -> dict | None:
    """What the database holds that is not the demo's: None when it is empty (the demo goes in)
    or holds the demo already (load_demo says so and keeps it)."""
    from sqlalchemy import func, select

    from models import Group, ProcessDefinition, ProcessInstance, User

    from ..demo import PLANS
    with state.db.reader() as s:
        held = {"users": s.scalar(select(func.count()).select_from(User)),
                "groups": s.scalar(select(func.count()).select_from(Group)),
                "definitions": s.scalar(select(func.count()).select_from(ProcessDefinition)),
                "plans": s.scalar(select(func.count()).select_from(ProcessInstance))}
        demo_there = s.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == PLANS[0][0])
                               .limit(1)).first() is not None \
            and s.execute(select(User.id).where(User.username == "chen")).first() is not None
    return None if demo_there or not any(held.values()) else held


def _not_empty_line(held: dict) -> str:
    from ..display import counted
    return (f"未加载演示数据：数据库中已有数据（用户 {held['users']} 个、角色 {held['groups']} 个、流程定义 "
            f"{held['definitions']} 个、方案 {held['plans']} 个），演示数据只加载到空数据库；要试用演示，请另用一个新数据库"
            f"运行 reformflow --db sqlite:///demo.sqlite3 init --demo (demo data not loaded: the database already "
            f"holds data ({counted(held['users'], 'user')}, {counted(held['groups'], 'group')}, "
            f"{counted(held['definitions'], 'definition')}, {counted(held['plans'], 'plan')}), and demo data only "
            f"goes into an empty database; to try the demo, use a new one)")


def _make_folder_for(url: str) -> None:
    """init creates a SQLite database where --db says, its folder too (as ./instance/ by
    default): else SQLite's "unable to open database file" was answered with "run reformflow init"."""
    from models.db import create_private, sqlite_file

    from ..errors import Invalid
    path = sqlite_file(url)
    if path is not None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Invalid(f"无法创建数据库所在的文件夹 {Path(path).parent}：{exc.strerror or exc}"
                          f" (cannot create the database's folder)") from None
        create_private(path)  # the folder was not there when the Database was made: SQLite's would be 0644


def _tighten_file_modes(url: str) -> None:
    """A SQLite file an older release created stays readable by anyone on the machine (0644): init
    makes it, and its -wal and -shm, its owner's alone, and says so once on standard error."""
    from models.db import sqlite_file, tighten_private
    found = tighten_private(sqlite_file(url))
    done = [(name, mode) for name, mode, failed in found if failed is None]
    if done:
        files = "、".join(f"{name}（{mode:04o} → {mode & ~0o077:04o}）" for name, mode in done)
        files_en = ", ".join(f"{name} ({mode:04o} → {mode & ~0o077:04o})" for name, mode in done)
        click.echo(f"已将数据库文件改为仅属主可读写：{files}；它保存密码哈希和审计记录 (the database's files were "
                   f"readable by others and are now their owner's alone: {files_en}; they hold the password hashes "
                   f"and the audit trail)", err=True)
    for name, mode, failed in found:
        if failed is not None:
            click.echo(f"警告 (warning)：数据库文件 {name} 其他用户可读（{mode:04o}），无法修改：{failed}；请由其属主运行 "
                       f"chmod 600 {name} (the database file is readable by others and its mode could not be "
                       f"changed: run `chmod 600` on it as its owner)", err=True)


def _schema_line(d: dict) -> str:
    """What init did to the schema: an operator upgrading wants to see the migrations ran."""
    old, new, where = d["previous_revision"], d["revision"], d["database"]
    if d["schema"] == "created":
        return f"已创建数据库结构，版本 {new} (schema created at {new})，数据库 (database) {where}"
    if d["schema"] == "upgraded":
        return f"数据库结构已从 {old} 升级到 {new} (schema upgraded {old} → {new})，数据库 (database) {where}"
    return f"数据库结构已是最新，版本 {new} (schema up to date at {new})，数据库 (database) {where}"
