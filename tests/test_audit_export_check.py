"""ops/check_audit_export.py, the checker an auditor runs outside the system (users.md §8), run as
it is run, on real exports: whole and one plan's, JSON lines, CSV (with its byte-order mark and
apostrophes) and the --json document, untouched and tampered. A plan's export was reported tampered
(its events are not consecutive) and a CSV crashed the script (QA auditor finding 6a)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import FIXTURES, ROOT
from .test_audit import cli

SCRIPT = ROOT / "ops" / "check_audit_export.py"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8")


@pytest.fixture
def exported(engine, people, tmp_path):
    """Three plans started in turn and a comment on the second, so that its events have another's between; a refused
    sign-in typed as a formula (an apostrophe in the CSV); every export format, whole and of plan 1."""
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    for title in ("深化财政预算管理制度改革方案", "推进国有资本投资运营公司改革方案", "第三个方案"):
        cli(engine.db, "start", "mini_approval", "--as", "zhang", "--title", title)
    engine.comment(2, "请补充成本测算", actor="zhang")  # plan 2's events now have plan 3's between them
    engine.sign_in_refused('=HYPERLINK("http://x","a")', address="203.0.113.9", reason=engine.SIGN_IN_REFUSALS[0])
    files = {}
    for name, args in {"whole.jsonl": [], "whole.csv": [], "plan.jsonl": ["--instance", "2"],
                       "plan.csv": ["--instance", "2"]}.items():
        files[name] = tmp_path / name
        cli(engine.db, "audit", "export", *args, "--output", str(files[name]))
    files["whole.json"] = tmp_path / "whole.json"
    files["whole.json"].write_text(cli(engine.db, "audit", "export", "--json").stdout, encoding="utf-8")
    return files


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", ["whole.jsonl", "whole.csv", "whole.json"])
def test_a_whole_export_in_every_format_checks_every_hash_and_link(exported, name):
    events = _events(exported["whole.jsonl"])
    checked = run(exported[name], "--whole")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == (f"{len(events)} events, every hash matches; {len(events)} links between consecutive "
                              f"events match; last {events[-1]['hash']}\n")
    assert checked.stderr == ""


@pytest.mark.parametrize("name", ["plan.jsonl", "plan.csv"])
def test_one_plans_export_checks_each_hash_and_only_the_links_it_can(exported, name):
    events = _events(exported["plan.jsonl"])
    seqs = [e["seq"] for e in events]
    assert [b - a for a, b in zip(seqs, seqs[1:])][-1] > 1  # plan 3's events between: no sign of tampering
    checked = run(exported[name])
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == (f"3 events, every hash matches; 1 link between consecutive events matches; 1 gap (other "
                              f"plans' events between: the link across it is not checked); last {events[-1]['hash']}\n")
    # told it is a whole export, the numbers missing are a problem
    whole = run(exported[name], "--whole")
    assert whole.returncode == 1 and "gap: event" in whole.stderr


def test_a_changed_event_is_a_hash_problem_and_a_removed_one_a_link_problem(exported, tmp_path):
    events = _events(exported["whole.jsonl"])
    changed = tmp_path / "changed.jsonl"
    events[3]["actor"] = "wang"
    changed.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    checked = run(changed)
    assert checked.returncode == 1 and checked.stdout == ""
    assert checked.stderr.splitlines() == [
        f"hash: event {events[3]['seq']}: its content does not match its hash (the event was changed)",
        f"1 problem(s) in {len(events)} events: hash 1"]
    # an event rewritten with its hash recomputed: its own hash matches, the next event's link does not
    removed = tmp_path / "removed.jsonl"
    del events[3]
    events[3]["prev_hash"] = "ab" * 32
    removed.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    checked = run(removed)  # from event 1: a whole export, where a number missing is a problem
    lines = checked.stderr.splitlines()
    assert "gap: event 4 missing from a whole export (removed)" in lines
    assert f"hash: event {events[3]['seq']}: its content does not match its hash (the event was changed)" in lines
    assert lines[-1] == f"2 problem(s) in {len(events)} events: hash 1, gap 1"


def test_a_changed_csv_cell_and_a_file_that_is_no_export(exported, tmp_path):
    text = exported["whole.csv"].read_text(encoding="utf-8")
    assert text.startswith("\ufeff") and "'=HYPERLINK" in text  # what made the old script crash, and the apostrophe
    forged = tmp_path / "forged.csv"
    forged.write_text(text.replace("深化财政预算管理制度改革方案", "深化财政预算管理制度改革方案（改）", 1), encoding="utf-8")
    checked = run(forged)
    assert checked.returncode == 1 and "hash: event" in checked.stderr and "events: hash 1" in checked.stderr
    other = tmp_path / "ledger.csv"
    other.write_text("\ufeff方案,状态\n1,办理中\n", encoding="utf-8")
    refused = run(other)
    assert refused.returncode == 2 and "not an audit export that can be read" in refused.stderr


def test_the_script_needs_nothing_but_the_standard_library():
    imported = {name.strip().split(".")[0] for line in SCRIPT.read_text(encoding="utf-8").splitlines()
                if line.startswith(("import ", "from ")) for name in line.split()[1].split(",")}
    assert imported <= set(sys.stdlib_module_names), imported
