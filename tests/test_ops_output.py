"""Every command with --output writes the file and says so in one line, as `audit export --output`
does, instead of also printing what it wrote: `reformflow ledger --output 台账.xlsx` from cron printed
the whole ledger (2,379 lines for 486 plans) into the job's mail. With --json, the summary as JSON."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main

from .plan_helper import Plan

NOW = "2026-12-20T09:00:00"


def _run(library, *args):
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", NOW, *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("command, written", [
    (["ledger"], "已写入台账 2 个方案到"),
    (["ledger", "--by-unit"], "已写入"),  # .csv: the per-unit sums; .xlsx: the ledger with them
    (["ledger", "--year", "2026"], "已写入2026年度台账 2 个方案到"),
    (["bulletin", "--quarter", "2026Q3"], "已写入2026年第三季度通报"),
    (["supervision"], "已写入督察整改台账"),
    (["stats", "--as", "chen"], "已写入办理时效统计"),
    (["archive", "1"], "已写入决策档案到"),
])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_command_with_output_prints_one_line_not_what_it_wrote(library, at, tmp_path, command, written,
                                                                  suffix):
    with at("2026-12-18T09:00:00"):
        Plan(library).run_until("Task_Research")
        Plan(library)
    path = tmp_path / f"out{suffix}"
    shown = _run(library, *command)
    # printed without it (both plans are the one unit's: by unit, one line)
    assert len(shown.stdout.splitlines()) > 1 or command[0] in ("bulletin", "supervision", "stats") or "--by-unit" in command
    result = _run(library, *command, "--output", str(path))
    assert path.stat().st_size > 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(written) and str(path) in result.stderr
    summary = json.loads(_run(library, *command, "--output", str(path), "--json").stdout)
    assert summary["output"] == str(path)
    assert set(summary) - {"output"} <= {"plans", "units", "year", "quarter", "steps", "id", "records"}
