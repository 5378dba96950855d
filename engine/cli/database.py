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
    before, after = state.db.upgrade()
    _warn_calendar_gaps(state)
    schema = "created" if before is None else "up to date" if before == after else "upgraded"
    from ..audit import public_url  # init's output lands in logs: never the password
    result = {"database": public_url(state.db.url), "schema": schema, "previous_revision": before, "revision": after}
    if demo:
        from ..demo import load_demo
        result["demo"] = load_demo(state.engine, progress=None if as_json else click.echo)
    _emit(result, as_json, lambda d: click.echo(_schema_line(d)))


def _make_folder_for(url: str) -> None:
    """init creates a SQLite database where --db says, its folder too (as ./instance/ by
    default): else SQLite's "unable to open database file" was answered with "run reformflow init"."""
    from models.db import sqlite_file

    from ..errors import Invalid
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
