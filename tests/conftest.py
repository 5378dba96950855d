"""Shared fixtures: a fresh database per test on SQLite and, for tests that ask for it, on the
real PostgreSQL named by REFORMFLOW_TEST_POSTGRES_URL (the README's test command sets it; if it
is set and the server is unreachable, the tests fail rather than skip).

REFORMFLOW_TEST_TODAY=YYYY-MM-DD runs the suite as on that day (Beijing date): the engine clock
is moved by whole days (engine.clock.shift_to) and keeps running, so what does not freeze the
clock (the demo, the browser tests) sees that day, as CI will on the day the work is submitted."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from engine import clock
from engine.commands import Engine
from models import Base
from models.db import Database, alembic_config, normalise_url, sqlite_file

ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "bpmn"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("REFORMFLOW_TEST_POSTGRES_URL")
TEST_TODAY = os.environ.get("REFORMFLOW_TEST_TODAY")


def pytest_configure(config):
    """Before any fixture, in the controller and in every xdist worker (each a process that
    loads this file): move the clock to REFORMFLOW_TEST_TODAY."""
    if TEST_TODAY:
        from datetime import date
        try:
            day = date.fromisoformat(TEST_TODAY)
        except ValueError:
            raise pytest.UsageError(f"REFORMFLOW_TEST_TODAY={TEST_TODAY!r}: expected YYYY-MM-DD") from None
        clock.shift_to(day)


def pytest_report_header(config):
    if TEST_TODAY:
        return f"reformflow: the engine clock runs as on {TEST_TODAY} (REFORMFLOW_TEST_TODAY)"

# the web inbox's fixtures (a live server over the demo, one chromium for the whole run)
pytest_plugins = ("tests.web_helper",)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrate once, copy the file for every test: a fresh database in about a millisecond."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway database on the PostgreSQL server, migrated once for the session."""
    if not PG_URL:
        if os.environ.get("REFORMFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail("REFORMFLOW_REQUIRE_POSTGRES=1 but REFORMFLOW_TEST_POSTGRES_URL is not set")
        pytest.skip("REFORMFLOW_TEST_POSTGRES_URL not set (the README's test command sets it)")
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"reformflow_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(PG_URL).rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    db.upgrade()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class PostgresTables:
    """Puts the session's PostgreSQL test database in a known state between tests, over one engine
    kept for the session: `reset` empties every table, restarts the sequences their columns own and
    sets audit_head back to seq 0. One script in one transaction, with the append-only triggers
    (migration 0024) set aside for that transaction only, as the server's superuser: DELETE of each
    table and setval rather than TRUNCATE ... RESTART IDENTITY CASCADE, about 3 ms a test rather
    than 55-80 ms. `snapshot` keeps the rows, sequences and head as they are in a schema of the
    database, and `restore` puts them back (see Snapshots)."""

    def __init__(self, url: str):
        self.admin = create_engine(url)
        self.tables = [t.name for t in Base.metadata.sorted_tables if t.name != "audit_head"]  # parents first
        with self.admin.connect() as conn:
            owned = conn.execute(text(  # each sequence a column of these tables owns, and its start
                "SELECT d.objid::regclass::text, s.seqstart FROM pg_depend d "
                "JOIN pg_sequence s ON s.seqrelid = d.objid JOIN pg_class t ON t.oid = d.refobjid "
                "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
                "AND d.deptype IN ('a', 'i') AND t.relnamespace = 'public'::regnamespace "
                "AND t.relname = ANY(:tables)"), {"tables": self.tables}).all()
        self.sequences = [name for name, _ in owned]
        # a state `restore` takes: rows to insert, each sequence's (value, is_called), audit_head's seq and hash
        self.empty = ([], {name: (start, False) for name, start in owned}, (0, "0" * 64))

    def reset(self) -> None:
        self.restore(self.empty)

    def snapshot(self, schema: str) -> tuple:
        """Copy the tables into `schema`; returns what `restore` takes."""
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; " + " ".join(
                f'CREATE TABLE {schema}."{t}" AS TABLE public."{t}";' for t in self.tables))
            filled = [t for t in self.tables
                      if conn.exec_driver_sql(f'SELECT EXISTS (SELECT FROM {schema}."{t}")').scalar()]
            sequences = {name: tuple(conn.exec_driver_sql(f"SELECT last_value, is_called FROM {name}").one())
                         for name in self.sequences}
            head = tuple(conn.exec_driver_sql("SELECT last_seq, last_hash FROM audit_head").one())
        return [f'INSERT INTO public."{t}" SELECT * FROM {schema}."{t}";' for t in filled], sequences, head

    def restore(self, state: tuple) -> None:
        inserts, sequences, (seq, tip) = state
        deletes = [f'DELETE FROM public."{t}";' for t in reversed(self.tables)]
        setvals = ", ".join(f"setval('{name}', {value}, {called})" for name, (value, called) in sequences.items())
        with self.admin.begin() as conn:
            conn.exec_driver_sql(" ".join([
                "SET LOCAL session_replication_role = replica;", *deletes, *inserts, f"SELECT {setvals};",
                f"UPDATE audit_head SET last_seq = {int(seq)}, last_hash = '{tip}';"]))

    def dispose(self) -> None:
        self.admin.dispose()


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path) -> Database:
    path = tmp_path / "reformflow.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def postgres_tables(postgres_url) -> PostgresTables:
    tables = PostgresTables(postgres_url)
    yield tables
    tables.dispose()


@pytest.fixture
def postgres_db(postgres_url, postgres_tables) -> Database:
    postgres_tables.reset()
    db = Database(postgres_url)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request) -> Database:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_db")


def migrate_to(url: str, revision: str, direction=command.upgrade) -> None:
    """Database.upgrade, to a given revision (or down to it)."""
    config = alembic_config()
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            direction(config, revision)
            connection.commit()
    finally:
        db.dispose()


@pytest.fixture
def blank_url(db, tmp_path):
    """An empty database of the same kind as `db`, for running migrations from the start."""
    if db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'blank.sqlite3'}"
        return
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"reformflow_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield normalise_url(PG_URL).rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(db) -> Engine:
    return Engine(db)


@pytest.fixture
def sqlite_engine(sqlite_db) -> Engine:
    return Engine(sqlite_db)


@pytest.fixture
def at():
    """Freeze the engine clock: `with at("2026-01-31T10:00"):` (naive = China time)."""
    from datetime import datetime

    def freeze(moment: str):
        return clock.frozen(datetime.fromisoformat(moment))
    return freeze


@pytest.fixture(autouse=True)
def _no_clock_override():
    yield
    clock.set_override(None)


def is_workday(day) -> bool:
    """A working day as the engine counts one with no entries of its own: the State Council's
    holidays and swapped working weekends (chinesecalendar), and in a year whose schedule the
    package does not know yet (2027 for a run late in December) the holidays the law fixes and
    weekends (engine/statutory_holidays.py, tested on its own in tests/test_statutory_holidays.py)."""
    from engine.workdays import before_entries
    return before_entries(day)


def read(path: Path) -> tuple[str, bytes]:
    return (path.name, path.read_bytes())


class Snapshots:
    """The states `people` and `library` set up, made once a session for each kind of database and
    put back for each test that asks for one, instead of made again: add_people takes ~0.09 s on
    SQLite and ~0.15 s on PostgreSQL, deploy_library ~0.09 s more; a restore is a file copy on
    SQLite and one script on PostgreSQL (PostgresTables, 5-15 ms). The restored state is the one
    made: the same rows, ids and audit chain, and the engine remembers the chain's tip as it would
    have. Only its times are those of when the snapshot was made, earlier in the session: a test
    that freezes the clock before asking for the state gets it made at that moment instead."""

    def __init__(self, sqlite_template: Path, folder: Path):
        self.sqlite_template, self.folder = sqlite_template, folder
        self.made: dict[tuple[str, str], tuple] = {}  # (database kind, state) -> (where, returned, tip)

    @staticmethod
    def make(engine: Engine, state: str):
        roles = add_people(engine)
        if state == "library":
            from .plan_helper import deploy_library
            deploy_library(engine)
        return roles

    def restore(self, engine: Engine, state: str, postgres: PostgresTables | None):
        db = engine.db
        key = ("sqlite" if db.is_sqlite else "postgres", state)
        if key not in self.made:
            self.made[key] = self._snapshot(key, postgres, db.url)
        where, returned, tip = self.made[key]
        if db.is_sqlite:
            path = sqlite_file(db.url)
            db.dispose()
            for side in ("-wal", "-shm", "-journal"):
                Path(path + side).unlink(missing_ok=True)
            shutil.copyfile(where, path)
        else:
            postgres.restore(where)
        engine.audit_tip.value = tip
        return dict(returned)

    def _snapshot(self, key: tuple[str, str], postgres: PostgresTables | None, url: str) -> tuple:
        if postgres is None:
            where = self.folder / f"{key[1]}.sqlite3"
            shutil.copyfile(self.sqlite_template, where)
            db = Database(f"sqlite:///{where}")
        else:
            postgres.reset()
            db = Database(url)
        engine = Engine(db)
        returned = self.make(engine, key[1])
        db.dispose()
        if postgres is None:
            assert not Path(f"{where}-wal").exists(), "the snapshot's last commits are in its -wal file"
        else:
            where = postgres.snapshot(f"snap_{key[1]}")
        return where, returned, engine.audit_tip.value


@pytest.fixture(scope="session")
def snapshots(sqlite_template, tmp_path_factory) -> Snapshots:
    return Snapshots(sqlite_template, tmp_path_factory.mktemp("snapshots"))


_STATE = pytest.StashKey[str]()


@pytest.fixture
def people(engine, snapshots, request):
    """The roles of the procedure, one or two users each (with the library deployed too when the
    test asks for `library`: one restore). Restored from a snapshot (see Snapshots), but made in
    the test when the clock is frozen or fixed: the rows' times are then that clock's."""
    if clock._frozen_at.get() is not None or clock.get_override() is not None:
        return add_people(engine)
    state = request.node.stash[_STATE] = "library" if "_with_library" in request.fixturenames else "people"
    postgres = None if engine.db.is_sqlite else request.getfixturevalue("postgres_tables")
    return snapshots.restore(engine, state, postgres)


@pytest.fixture
def _with_library():
    """Asked for by `library` alone (a module's own `library` need not want people's restore to
    deploy the library): tells `people` to restore the library with the people."""


@pytest.fixture
def library(engine, _with_library, people, request):
    """The people and the process library (bpmn/*.bpmn), deployed."""
    if request.node.stash.get(_STATE, None) != "library":
        from .plan_helper import deploy_library
        deploy_library(engine)
    return engine


ROLES = {
    "drafter": "牵头单位（起草人）", "participant": "参与单位", "special_group": "专项小组",
    "legal": "法制机构", "risk": "社会稳定风险评估", "expert": "专家", "reform_office": "改革办",
    "group_leader": "领导小组组长", "gov_office": "政府常务会议", "party_office": "常委会议",
}


def add_people(engine: Engine) -> dict[str, str]:
    for code, name in ROLES.items():
        engine.add_group(code, name)
    users = {"drafter": ("zhang", "张伟"), "drafter2": ("wang", "王芳"), "participant": ("zhao", "赵敏"),
             "special_group": ("sun", "孙强"), "legal": ("li", "李娜"), "risk": ("zhou", "周杰"),
             "expert": ("wu", "吴磊"), "reform_office": ("chen", "陈静"), "group_leader": ("liu", "刘洋"),
             "gov_office": ("huang", "黄磊"), "party_office": ("lin", "林涛")}
    for role, (username, display) in users.items():
        group = "drafter" if role == "drafter2" else role
        engine.add_user(username, display, groups=[group], unit="市财政局" if group == "drafter" else None)
    return {role: username for role, (username, _) in users.items()}
