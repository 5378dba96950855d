"""Schema 0022: definitions deployed from a folder by an older reformflow keep only the file's
own name once upgraded, on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from models.db import Database

from .conftest import migrate_to


def test_an_older_deploy_s_folders_are_cut_from_the_file_name(blank_url):
    migrate_to(blank_url, "0021")
    db = Database(blank_url)
    try:
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
