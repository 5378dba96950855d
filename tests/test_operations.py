"""The PostgreSQL deployment docs/operations.md recommends, done the way an operator does it:
an owner role runs the migrations, ops/grant_app_role.sql (through psql) gives the app role its
rights, and every process connects as the app role. What the operator relies on: the whole
procedure works as the app role, and the app role cannot get around the audit trail's
append-only triggers."""
from __future__ import annotations

import shutil
import subprocess
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from engine.cli import main

from .conftest import FIXTURES, ROOT


@pytest.fixture
def owner_and_app(postgres_url):
    """A database owned by a fresh owner role, and a fresh app role; both dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    owner, app, name = f"rf_owner_{suffix}", f"rf_app_{suffix}", f"rf_ops_{suffix}"
    server = make_url(postgres_url)
    admin_url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        conn.execute(f'CREATE ROLE "{app}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    as_role = {role: server.set(drivername="postgresql", username=role, database=name)
               .render_as_string(hide_password=False) for role in (owner, app)}
    yield as_role[owner], as_role[app]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{app}"')
        conn.execute(f'DROP ROLE IF EXISTS "{owner}"')


def test_the_app_role_runs_everything_and_cannot_touch_the_audit_trail(owner_and_app, tmp_path):
    owner_url, app_url = owner_and_app
    runner = CliRunner()

    def reformflow(url, *args):
        result = runner.invoke(main, ["--db", url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout

    reformflow(owner_url, "init")
    psql = shutil.which("psql")
    assert psql, "psql (Debian package postgresql-client) is needed to apply ops/grant_app_role.sql"
    app = make_url(app_url).username
    subprocess.run([psql, owner_url, "-q", "-v", f"app={app}", "-f", str(ROOT / "ops" / "grant_app_role.sql")],
                   check=True, capture_output=True, text=True)

    reformflow(app_url, "groups", "add", "drafter", "--display-name", "牵头单位")
    reformflow(app_url, "groups", "add", "legal", "--display-name", "法制机构")
    reformflow(app_url, "users", "add", "zhang", "--display-name", "张伟", "--group", "drafter")
    reformflow(app_url, "users", "add", "li", "--display-name", "李娜", "--group", "legal")
    reformflow(app_url, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    reformflow(app_url, "start", "mini_approval", "--as", "zhang")
    reformflow(app_url, "complete", "1", "--as", "zhang", "--data", '{"summary": "方案摘要"}')
    reformflow(app_url, "claim", "2", "--as", "li")
    opinion = tmp_path / "审查意见.pdf"
    opinion.write_bytes(b"%PDF-1.7 opinion")
    reformflow(app_url, "attach", "2", str(opinion), "--as", "li")
    reformflow(app_url, "comment", "1", "--as", "li", "请补充材料。")
    reformflow(app_url, "complete", "2", "--as", "li", "--data", '{"decision": "approve"}')
    reformflow(app_url, "timers", "run")
    assert "completed" in reformflow(app_url, "instance", "1")
    assert "audit trail intact" in reformflow(app_url, "audit", "verify")

    with psycopg.connect(app_url, autocommit=True) as conn:
        for attack in ("UPDATE audit_events SET actor = 'nobody'",
                       "DELETE FROM audit_events",
                       "TRUNCATE audit_events",
                       "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                       "DROP TABLE audit_events",
                       "UPDATE documents SET content = 'x'",
                       "DELETE FROM documents",
                       "TRUNCATE documents",
                       "ALTER TABLE documents DISABLE TRIGGER ALL",
                       "UPDATE comments SET text = 'x'",
                       "DELETE FROM comments",
                       "TRUNCATE comments"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(attack)
    assert "audit trail intact" in reformflow(app_url, "audit", "verify")
    assert "1 个附件与上传记录相符" in reformflow(app_url, "audit", "verify")



@pytest.fixture
def role_without_rights(postgres_url):
    """The URL of the test database as a fresh login role that was granted nothing (an app role
    before ops/grant_app_role.sql); the role is dropped afterwards."""
    role = f"rf_norights_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_url)
    admin_url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    yield server.set(username=role).render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.parametrize("args", [["tasks", "--as", "li"], ["init"]])
def test_a_role_without_rights_is_told_to_run_init_as_the_owner_and_the_grant_script(role_without_rights, args):
    result = CliRunner().invoke(main, ["--db", role_without_rights, *args], catch_exceptions=False)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "permission denied for" in result.stderr
    # not "run reformflow init" to the role that cannot: the owner runs it, and grants the app role
    assert "新数据库请先运行" not in result.stderr
    assert "请以数据库属主角色运行 `reformflow init`" in result.stderr and "ops/grant_app_role.sql" in result.stderr
    assert "(database not usable: this role lacks rights; run `reformflow init` as the database owner role" \
        in result.stderr
