"""After an upgrade of reformflow the schema is upgraded by `reformflow init` (docs/operations.md
§5). A server started before that (the web inbox, gunicorn's app, the timer worker) refuses to
start and says what to do, instead of failing every sign-in with a bare SQL error and retrying
forever; a command that meets the old schema says the same, not "a new database"."""
from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.cli import main
from models.db import Database
from web import create_app
from web.settings import SettingError

from .conftest import migrate_to


def _run(url: str, *args: str):
    return CliRunner().invoke(main, ["--db", url, *args])


def _head(url: str) -> str:
    db = Database(url)
    try:
        return db.schema_versions()[1]
    finally:
        db.dispose()


def test_servers_refuse_a_database_not_upgraded_and_run_once_init_has_upgraded_it(blank_url):
    migrate_to(blank_url, "0010")  # an installation some releases behind
    head = _head(blank_url)
    said = f"数据库结构版本 0010，本程序需要 {head}：请先以数据库属主角色运行 `reformflow init` 升级"
    with socket.socket() as taken:  # were the web not refused, it would fail here rather than serve on
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in (["worker", "--rounds", "1"], ["web", "--port", port, "--no-worker"]):
            result = _run(blank_url, *command)
            assert (result.exit_code, result.stdout) == (3, ""), (command, result.output)
            assert said in result.stderr and "needs " + head in result.stderr
    with pytest.raises(SettingError, match=said):
        create_app(database_url=blank_url, secret_key="x" * 32)
    verify = _run(blank_url, "audit", "verify")
    assert verify.exit_code != 0 and said in verify.stderr and "新数据库" not in verify.stderr
    assert _run(blank_url, "init").exit_code == 0
    assert _run(blank_url, "worker", "--rounds", "1", "--interval", "0").exit_code == 0
    assert create_app(database_url=blank_url, secret_key="x" * 32) is not None


def test_a_database_never_initialised_or_upgraded_by_a_newer_release_is_refused_saying_which(blank_url):
    if blank_url.startswith("sqlite"):
        Database(blank_url).dispose()  # the empty file, as `init` would find it
    assert "数据库尚未初始化：请先运行 `reformflow init`" in _run(blank_url, "worker", "--rounds", "1").stderr
    assert _run(blank_url, "init").exit_code == 0
    db = Database(blank_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.dispose()
    result = _run(blank_url, "worker", "--rounds", "1")
    assert result.exit_code == 3 and "数据库结构版本 9999 比本程序" in result.stderr and "run the release that upgraded it" in result.stderr
