"""After an upgrade of reformflow the schema is upgraded by `reformflow init` (docs/operations.md
§5). A server started before that (the web inbox, gunicorn's app, the timer worker) refuses to
start and says what to do, instead of failing every sign-in with a bare SQL error and retrying
forever; every command that uses the database says the same before it reads or writes anything,
and `init` refuses a database a newer release upgraded in that one line, not a traceback."""
from __future__ import annotations

import os
import socket

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.cli import main
from engine.commands import Engine
from models.db import SCHEMA_HEAD, Database, alembic_config, sqlite_file
from web import create_app
from web.settings import SettingError

from .conftest import add_people, migrate_to


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


def test_the_head_the_commands_check_against_is_alembic_s():
    """SCHEMA_HEAD saves every command loading Alembic's scripts: a new migration must move it."""
    from alembic.script import ScriptDirectory
    assert SCHEMA_HEAD == ScriptDirectory.from_config(alembic_config()).get_current_head()


def _stamp(url: str, revision: str) -> None:
    """As if another release had migrated the database to `revision`."""
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.dispose()


def _count(url: str, table: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        db.dispose()


NEWER = (f"reformflow: invalid: 数据库结构版本 9999 比本程序（{SCHEMA_HEAD}）新，是更新版本的 reformflow 升级过的：请运行该版本 "
         f"(the database's schema, 9999, is newer than this program's, {SCHEMA_HEAD}: run the release that upgraded it)\n")


def test_init_on_a_database_a_newer_release_upgraded_refuses_in_one_line_and_changes_nothing(blank_url):
    """Rolling back (docs/operations.md §5), init run before the dump is restored: Alembic's
    "Can't locate revision" traceback, after init had already changed the file's mode."""
    assert _run(blank_url, "init").exit_code == 0
    _stamp(blank_url, "9999")
    path = sqlite_file(blank_url)
    if path:
        os.chmod(path, 0o644)
    result = _run(blank_url, "init")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "", NEWER)
    assert _head_row(blank_url) == "9999"
    if path:
        assert os.stat(path).st_mode & 0o777 == 0o644  # nothing done before the refusal


def _head_row(url: str) -> str:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        db.dispose()


WRITERS = (["audit", "anchor", "--as", "chen"], ["users", "add", "qian", "--display-name", "钱多"],
           ["mail", "prune", "--older-than", "1"], ["tasks", "--as", "chen"], ["ledger"], ["audit", "verify"])


def test_every_command_refuses_a_database_a_newer_release_upgraded_before_writing(blank_url):
    """An older release's command left in a cron job or a shell after an upgrade wrote into the
    new schema (rows without what its migrations fill in); only web and worker refused."""
    assert _run(blank_url, "init").exit_code == 0
    engine = Engine(Database(blank_url))
    add_people(engine)
    engine.db.dispose()
    events, users = _count(blank_url, "audit_events"), _count(blank_url, "users")
    _stamp(blank_url, "9999")
    for command in WRITERS:
        result = _run(blank_url, *command)
        assert (result.exit_code, result.stdout, result.stderr) == (3, "", NEWER), command
    assert (_count(blank_url, "audit_events"), _count(blank_url, "users")) == (events, users)
    assert _run(blank_url, "--help").exit_code == 0  # what needs no database still answers
    _stamp(blank_url, SCHEMA_HEAD)
    assert _run(blank_url, "audit", "anchor", "--as", "chen").exit_code == 0


def test_every_command_of_a_newer_release_refuses_a_database_not_yet_upgraded(blank_url):
    migrate_to(blank_url, "0025")  # the release before: init not yet run after the upgrade
    said = (f"数据库结构版本 0025，本程序需要 {SCHEMA_HEAD}：请先以数据库属主角色运行 `reformflow init` 升级"
            f"，再启动（见 docs/operations.md §5）")
    for command in WRITERS:
        result = _run(blank_url, *command)
        assert result.exit_code == 3 and result.stderr.count("\n") == 1 and said in result.stderr, command
    assert _count(blank_url, "users") == 0


def test_init_in_a_folder_it_creates_makes_the_file_its_owner_s_alone_without_a_word(tmp_path):
    """init reads the schema before it changes anything: the file SQLite then creates in the folder
    init has just made would be 0644 by the umask (and init would say it had tightened it)."""
    database = tmp_path / "new" / "reformflow.sqlite3"
    result = _run(f"sqlite:///{database}", "init")
    assert result.exit_code == 0 and "仅属主可读写" not in result.stderr, result.output
    assert database.stat().st_mode & 0o777 == 0o600
