"""Schema 0022: definitions deployed from a folder by an older reformflow keep only the file's
own name once upgraded, on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from models.db import MIGRATIONS, Database, normalise_url

from .conftest import PG_URL


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path):
    """A database with no schema yet, on each of the two."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.sqlite3"
        return
    request.getfixturevalue("postgres_url")  # fails, or skips, as every PostgreSQL test does without one
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"reformflow_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield normalise_url(PG_URL).rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _upgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def test_an_older_deploy_s_folders_are_cut_from_the_file_name(empty_database_url):
    db = Database(empty_database_url)
    try:
        _upgrade(db, "0021")
        with db.engine.begin() as conn:
            for n, name in enumerate(["m1/legality_review.bpmn", "C:\\流程\\filing.bpmn", "reform_plan.bpmn"], 1):
                conn.execute(text(
                    "INSERT INTO process_definitions (key, version, name, file_name, bpmn_xml, sha256, spec_json, "
                    "called_keys, start_config, deployed_at, deployed_by) VALUES (:key, 1, 'x', :file, '<x/>', "
                    "'0', '{}', '[]', '{}', :at, 'system')"),
                    {"key": f"p{n}", "file": name, "at": datetime(2026, 12, 1, tzinfo=timezone.utc)})
        db.upgrade()
        with db.engine.connect() as conn:
            names = conn.execute(text("SELECT file_name FROM process_definitions ORDER BY key")).scalars().all()
        assert names == ["legality_review.bpmn", "filing.bpmn", "reform_plan.bpmn"]
    finally:
        db.dispose()
