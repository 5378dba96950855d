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
    # each export is on the trail (audit_exported): one taken later holds the earlier ones' events
    n = len(events) + {"whole.jsonl": 0, "whole.csv": 1, "whole.json": 4}[name]
    assert checked.stdout.startswith(f"{n} events, every hash matches; {n} links between consecutive events match; last ")
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


def _write(path, events):
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def test_a_whole_export_with_its_first_line_and_another_removed_is_not_passed(exported, tmp_path):
    """QA auditor finding 3: without event 1 the file was taken for one plan's export, every gap excused.
    A file holding events of several plans, or of none, is a whole export whatever its first number."""
    events = _events(exported["whole.jsonl"])
    cut = _write(tmp_path / "cut.jsonl", events[1:5] + events[6:])
    checked = run(cut)
    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [
        "gap: event 1 missing from a whole export at its start (removed)",
        f"gap: event {events[5]['seq']} missing from a whole export (removed)",
        f"2 problem(s) in {len(events) - 2} events: gap 2"]


def test_one_plans_export_whose_events_link_across_a_gap_was_renumbered(exported, tmp_path):
    events = _events(exported["plan.jsonl"])
    assert len({e["instance_id"] for e in events}) == 1  # one plan's, every event
    renumbered = [dict(e) for e in events]
    renumbered[-1]["prev_hash"] = renumbered[-2]["hash"]
    checked = run(_write(tmp_path / "plan.jsonl", renumbered))
    assert checked.returncode == 1
    assert f"link: event {events[-1]['seq']} links to event {events[-2]['seq']} although numbered" in checked.stderr


def test_an_anchor_shows_a_cut_off_end_the_file_alone_cannot(engine, exported, tmp_path):
    anchor = tmp_path / "anchor.json"
    cli(engine.db, "audit", "anchor", "--as", "chen", "--output", str(anchor))
    seq = json.loads(anchor.read_text(encoding="utf-8"))["seq"]
    whole = tmp_path / "later.jsonl"
    cli(engine.db, "audit", "export", "--output", str(whole))
    events = _events(whole)
    checked = run(whole, "--anchor", anchor)
    assert checked.returncode == 0 and f"; anchor of event {seq} matches; last " in checked.stdout
    cut = _write(tmp_path / "cut.jsonl", events[:-3])
    assert run(cut).returncode == 0  # a file cut at its end is a consistent, shorter chain
    refused = run(cut, "--anchor", anchor)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == (f"anchor: the anchored event {seq} is not in the export, which ends at event "
                                              f"{events[-4]['seq']}: its end was cut (or it was exported before the anchor "
                                              "was taken)")
    rewritten = [dict(e) for e in events]
    other = dict(json.loads(anchor.read_text(encoding="utf-8")), hash="f" * 64)
    (tmp_path / "other.json").write_text(json.dumps(other), encoding="utf-8")
    assert "anchor: event" in run(_write(tmp_path / "same.jsonl", rewritten), "--anchor", tmp_path / "other.json").stderr
    # one plan's export does not hold the anchoring event: said, not failed
    plan = run(exported["plan.jsonl"], "--anchor", anchor)
    assert plan.returncode == 0 and f"anchor of event {seq} not in this plan's export: not checked" in plan.stdout
    (tmp_path / "bad.json").write_text('{"seq": 3}', encoding="utf-8")
    assert run(whole, "--anchor", tmp_path / "bad.json").returncode == 2


def test_the_checker_reads_line_by_line(exported, tmp_path):
    """QA auditor finding 16: the whole file was read into memory; now one event at a time."""
    import ast
    source = SCRIPT.read_text(encoding="utf-8")
    calls = {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    assert "f.read" in calls  # only for a JSON document laid out otherwise than the export writes it
    assert "f.read()" not in source.split("def read_events")[1].split('elif first.strip() == "{"')[0]
    import importlib.util
    spec = importlib.util.spec_from_file_location("checker", SCRIPT)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    with open(exported["whole.jsonl"], encoding="utf-8", newline="") as f:
        events = checker.read_events(f)
        assert not isinstance(events, list) and next(events)["seq"] == 1  # a generator: an event at a time


def test_a_csv_cell_cut_at_excels_limit_is_said_and_its_hash_left_to_the_jsonl(engine, people, tmp_path):
    """QA auditor finding 4: Excel keeps 32,767 characters of a cell. The CSV cuts a longer one with a mark
    saying the whole value is in the JSONL export; the checker says it did not check that event's hash."""
    from engine.audit import CUT_MARK, EXCEL_CELL
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine.db, "start", "mini_approval", "--as", "zhang", "--title", "深化财政预算管理制度改革方案")
    big = "ab" * 10000 + "c" * 14000
    engine.sign_in_refused(big[:64], address="203.0.113.9", reason=engine.SIGN_IN_REFUSALS[0])
    from engine.audit import AuditLog
    with engine.command("zhang") as ctx:
        ctx.log.record("task_draft_saved", instance_id=1, task_id=1, new={"fields": ["summary"], "text": big})
    path = tmp_path / "all.csv"
    cli(engine.db, "audit", "export", "--output", str(path))
    import csv as csv_module
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv_module.reader(f))
    assert rows[0][:3] == ["序号 (seq)", "业务时间，UTC (occurred_at)", "办理人用户名 (actor)"]
    cells = [c for r in rows for c in r]
    assert max(map(len, cells)) == EXCEL_CELL
    cut = next(c for c in cells if c.endswith(CUT_MARK))
    assert len(cut) == EXCEL_CELL and "全文见 JSONL 导出" in cut
    checked = run(path)
    assert checked.returncode == 0, checked.stderr
    assert "1 event(s) cut at Excel's cell limit: their hashes are not checked here, check the JSON lines export" in checked.stdout
    jsonl = tmp_path / "all.jsonl"
    cli(engine.db, "audit", "export", "--output", str(jsonl))
    assert run(jsonl).returncode == 0 and "Excel" not in run(jsonl).stdout
    assert AuditLog  # the event above went through the trail as any other


def test_the_csv_says_each_event_for_a_reader(engine, people, tmp_path):
    """QA auditor finding 5: Chinese headers, Beijing time labelled, the actor's name, the event in Chinese."""
    import csv as csv_module
    cli(engine.db, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine.db, "--now", "2026-03-02T09:00:00+08:00", "start", "mini_approval", "--as", "zhang",
        "--title", "深化财政预算管理制度改革方案")
    path = tmp_path / "all.csv"
    cli(engine.db, "audit", "export", "--output", str(path))
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv_module.DictReader(f))
    started = next(r for r in rows if r["事件类型代码 (event_type)"] == "instance_started")
    assert started["业务时间，UTC (occurred_at)"].startswith("2026-03-02T01:00:00")
    assert started["北京时间，UTC+8 (Beijing time)"] == "2026-03-02 09:00:00"
    assert (started["办理人用户名 (actor)"], started["办理人姓名 (actor's name)"]) == ("zhang", "张伟")
    assert started["事件 (event)"] == "发起方案"
    created = next(r for r in rows if r["事件类型代码 (event_type)"] == "task_created")
    assert created["事件 (event)"] == "生成待办" and created["说明 (what happened)"].startswith("生成待办 起草")
    added = next(r for r in rows if r["事件类型代码 (event_type)"] == "group_added")
    assert added["办理人姓名 (actor's name)"] == "系统"
