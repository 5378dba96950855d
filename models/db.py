"""Database set-up: engines, sessions, and schema upgrades through Alembic.

SQLite is the embedded default. It has no row locks, so every writing transaction starts with
BEGIN IMMEDIATE: two writers queue instead of both reading and one losing its update.
Reads use a second engine with plain deferred transactions so they do not queue behind writers.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# How long a statement waits for a lock another transaction holds before it gives up: SQLite's
# busy timeout, PostgreSQL's lock_timeout. Past it the command is refused as busy, nothing
# written (engine.errors.Busy: exit code 8, HTTP 503), well before gunicorn's --timeout 60
# replaces the worker. Read when an engine is made: tests lower it.
LOCK_WAIT_SECONDS = 30

# The newest migration in models/migrations/versions: the schema this code is written for. Every
# command checks the database's against it, so it is kept here rather than read from Alembic's
# scripts (loading Alembic costs a tenth of a second a command); tests/test_schema_guard.py
# checks it is Alembic's head, so a new migration cannot forget it.
SCHEMA_HEAD = "0026"


def alembic_config():
    """Alembic's configuration for reformflow's migrations: `upgrade`, `schema_versions`, and
    tests that migrate to a given revision."""
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def default_url(create: bool = True) -> str:
    url = os.environ.get("REFORMFLOW_DATABASE_URL")
    if url:
        return url
    folder = Path.cwd() / "instance"
    if create:
        folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'reformflow.sqlite3'}"


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names, or None (in memory, or a URI reformflow leaves alone)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:") \
            or "uri" in parsed.query:
        return None
    return parsed.database


def _refuse_a_missing_file(engine: Engine, path: str) -> None:
    """SQLite creates a file it is asked to open: a command run in the wrong folder would leave
    an empty instance/reformflow.sqlite3 there and refuse with "no such table". Said instead as
    the driver's own error, so every caller (the command line's refusal, the worker's retry)
    treats it as a database it cannot use."""
    import sqlite3

    @event.listens_for(engine, "do_connect")
    def _exists(_dialect, _record, _args, _params):
        if not Path(path).exists():
            raise sqlite3.OperationalError(f"数据库文件 {path} 不存在 (no database file at {path})")


def create_private(path: str | None) -> None:
    """Create the SQLite file readable by its owner alone (0600): it holds password hashes and the
    audit trail, and SQLite would create it 0644 by the umask. Its -wal and -shm files take the
    same mode from it. An existing file is left as it is here; `reformflow init` tightens one an
    older release made (tighten_private)."""
    if path is None or Path(path).exists():
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is a database
    except FileExistsError:  # another process created it meanwhile
        pass
    except OSError:  # no folder: SQLite's own error says so on first use
        pass


def tighten_private(path: str | None) -> list[tuple[str, int, str | None]]:
    """Take group and others' rights off an existing SQLite file and its -wal and -shm (a file
    made by a release before 0600 was the rule kept 0644, readable by anyone on the machine):
    each becomes its owner's alone, never looser than it was (0644 → 0600, 0640 → 0600, 0700
    stays). Returns (file, mode it had, None or why it could not be changed: owned by another
    user) for each file that was group or world readable or writable; nothing for a file
    already private or missing."""
    if path is None:
        return []
    found = []
    for name in (path, path + "-wal", path + "-shm"):
        try:
            mode = os.stat(name).st_mode & 0o7777
        except OSError:
            continue
        if not mode & 0o077:
            continue
        try:
            os.chmod(name, mode & ~0o077)
            found.append((name, mode, None))
        except OSError as exc:
            found.append((name, mode, exc.strerror or str(exc)))
    return found


def normalise_url(url: str) -> str:
    """Let operators write postgresql://...; we use the psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    return url


def _limit_lock_waits(engine: Engine) -> None:
    """PostgreSQL waits for a row lock for ever by default: a plan held by a psql session left
    open would hang the command line and run a web request into gunicorn's timeout (a 500).
    Each connection gets lock_timeout = LOCK_WAIT_SECONDS, unless the server, database, role or
    the URL's `options` already set one (an operator's own choice is kept). No statement_timeout:
    reports, exports and `audit verify` may rightly run for minutes, and a statement waiting on
    a lock is already bounded here."""
    wait = f"{round(LOCK_WAIT_SECONDS * 1000)}ms"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false) "
                           "WHERE current_setting('lock_timeout') = '0'", (wait,))
        dbapi_conn.commit()  # a setting made in a transaction rolled back later would be undone


def _make_engine(url: str, *, immediate: bool) -> Engine:
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True)
        if url.startswith("postgresql"):
            _limit_lock_waits(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": LOCK_WAIT_SECONDS, "check_same_thread": False})
    busy_timeout = round(LOCK_WAIT_SECONDS * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        if ":memory:" not in url and url != "sqlite://":
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still never corrupts the file and keeps every commit atomic; it
            # syncs the log at checkpoints instead of on each commit. A power cut (not a crash
            # of the process) may lose the last commits; see docs/performance.md.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # BEGIN sent on the driver's connection whenever SQLAlchemy opens a transaction, by the
    # dialect's do_begin (a no-op for pysqlite), rather than by a "begin" event listener as in
    # SQLAlchemy's pysqlite recipe: any connection event on an engine makes every statement and
    # transaction dispatch the execute events, ~5 µs a statement and ~15 µs a transaction
    # (docs/performance.md, round 6). tests/test_concurrency.py checks the lock is taken.
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    engine.dialect.do_begin = lambda connection: connection.driver_connection.execute(begin)
    return engine


# PostgreSQL's default, READ COMMITTED, takes a new snapshot for each statement: a read of a plan's
# workflow header and then of its task rows, without the plan's lock, could see a commit land
# between the two (a subprocess the header does not have yet: a KeyError, a 500 for the person
# opening the step). REPEATABLE READ gives a read transaction one snapshot, as SQLite's read
# transaction has; a transaction that only reads is never refused by it. Writers keep the default
# and take locks (engine/runtime.py).
_READ_SNAPSHOT = {"isolation_level": "REPEATABLE READ"}


def _schema_revision(connection: Connection) -> str | None:
    """The migration the database is at (alembic_version), or None when it has no schema yet."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in str(exc.orig):
            return None  # never initialised
        raise


class Database:
    """The engines and session factories for one database URL."""

    def __init__(self, url: str | None = None, *, create: bool = True):
        """`create=False`: a SQLite file that does not exist is not created but refused when
        first used (only `reformflow init` creates a database)."""
        self.url = normalise_url(url or default_url(create))
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine = _make_engine(self.url, immediate=True)
        self.read_engine = _make_engine(self.url, immediate=False) if self.is_sqlite else self.engine
        if create and self.is_sqlite:
            create_private(sqlite_file(self.url))
        path = None if create or not self.is_sqlite else sqlite_file(self.url)
        if path is not None:
            _refuse_a_missing_file(self.engine, path)
            _refuse_a_missing_file(self.read_engine, path)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read transaction that sees one snapshot of the database (see _READ_SNAPSHOT)."""
        with self._read() as session, session.begin():
            if not self.is_sqlite:
                session.connection(execution_options=_READ_SNAPSHOT)
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A read transaction on a plain connection, for prebuilt Core queries: no ORM session
        to set up and tear down for a page read many times a minute. One snapshot, as reader's."""
        with self.read_engine.connect() as connection:
            if not self.is_sqlite:
                connection.execution_options(**_READ_SNAPSHOT)
            with connection.begin():
                yield connection

    def upgrade(self) -> tuple[str | None, str | None]:
        """Create or upgrade the schema to the newest migration. Returns the revision before
        (None: there was no schema) and after, so `init` can say what it did."""
        from alembic import command
        from alembic.migration import MigrationContext

        config = alembic_config()
        with self.engine.connect() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            connection.commit()  # end the read: Alembic runs the migrations in its own transaction
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            after = MigrationContext.configure(connection).get_current_revision()
            connection.commit()
        return before, after

    def schema_versions(self) -> tuple[str | None, str, bool]:
        """(the database's migration, or None if it was never initialised; the newest migration
        this code has; whether this code knows the database's), for a command or a server to
        refuse a schema it was not written for (an upgrade without `reformflow init`, or a
        database a newer release upgraded). One SELECT when the schema is this program's."""
        with self.read_engine.connect() as connection:
            current = _schema_revision(connection)
        if current is None or current == SCHEMA_HEAD:
            return current, SCHEMA_HEAD, True
        from alembic.script import ScriptDirectory  # only to say which way it differs
        scripts = ScriptDirectory.from_config(alembic_config())
        return current, SCHEMA_HEAD, any(r.revision == current for r in scripts.walk_revisions())

    def schema_refusal(self, versions: tuple[str | None, str, bool] | None = None) -> str | None:
        """Why this program may not run on this database as it is (never initialised, not
        upgraded, or upgraded by a newer release), or None when its schema is this program's, or
        when the database cannot be reached now: a server then starts and says so itself (the
        health check's 503, the worker's retries) until it is back. `versions`: what
        `schema_versions` has just said, not asked again."""
        from sqlalchemy.exc import DBAPIError
        try:
            current, head, known = versions or self.schema_versions()
        except DBAPIError:
            return None
        if current == head:
            return None
        if current is None:
            return ("数据库尚未初始化：请先运行 `reformflow init` (the database has no schema yet: run "
                    "`reformflow init` first)")
        if not known:
            return (f"数据库结构版本 {current} 比本程序（{head}）新，是更新版本的 reformflow 升级过的：请运行该版本 "
                    f"(the database's schema, {current}, is newer than this program's, {head}: run the release "
                    "that upgraded it)")
        return (f"数据库结构版本 {current}，本程序需要 {head}：请先以数据库属主角色运行 `reformflow init` 升级，再启动"
                f"（见 docs/operations.md §5） (the database's schema is at {current} and this program needs "
                f"{head}: run `reformflow init` as the owner role to upgrade it, then start again; "
                "docs/operations.md section 5)")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
