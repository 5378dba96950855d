"""What an operator following docs/operations.md sees on the command line: `init --demo` after
`deploy`, the worker's log when a round is cut short, `mail status` with a sender missing."""
from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli import main

from .conftest import BPMN


def _run(url: str, *args, code: int = 0, env: dict | None = None):
    result = CliRunner().invoke(main, ["--db", url, *args], env=env)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_init_demo_on_a_database_that_holds_data_says_why_nothing_was_loaded(tmp_path):
    """After `deploy` (operations.md §1) `init --demo` said 「演示数据已加载过」 though no demo had ever
    been loaded: it looked for the user chen, whom §1 adds too."""
    url = f"sqlite:///{tmp_path / 'reformflow.sqlite3'}"
    _run(url, "init")
    _run(url, "groups", "add", "reform_office", "--display-name", "改革办")
    _run(url, "users", "add", "chen", "--display-name", "陈静", "--group", "reform_office")
    _run(url, "deploy", str(BPMN / "filing.bpmn"), "--as", "chen")
    said = _run(url, "init", "--demo")
    assert "演示数据已加载过" not in said.stdout
    assert ("未加载演示数据：数据库中已有数据（用户 1 个、角色 1 个、流程定义 1 个、方案 0 个），演示数据只加载到空数据库"
            in said.stdout) and "demo data only goes into an empty database" in said.stdout
    demo = json.loads(_run(url, "init", "--demo", "--json").stdout)["demo"]
    assert demo == {"loaded": False, "reason": "database_not_empty", "users": 1, "groups": 1, "definitions": 1,
                    "plans": 0}
    assert [u["username"] for u in json.loads(_run(url, "users", "list", "--json").stdout)["users"]] == ["chen"]


def test_init_demo_loads_into_an_empty_database_and_says_already_loaded_the_second_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'reformflow.sqlite3'}"
    first = _run(url, "--now", "2026-12-03T09:00:00", "init", "--demo")
    assert "DT-2015-01" in first.stdout
    again = _run(url, "--now", "2026-12-03T09:00:00", "init", "--demo")
    assert "演示数据已加载过" in again.stdout and "未加载演示数据" not in again.stdout
