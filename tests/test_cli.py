"""The command line as a script would use it: --json output, exit codes, refusals."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from engine import clock
from engine.cli import main
from engine.cli.show import _deadline, _local
from engine.cli.tasks import _range

from .conftest import BPMN, FIXTURES


@pytest.fixture
def cli(sqlite_db):
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, ["--db", sqlite_db.url, *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result
    run("init")
    run("groups", "add", "drafter", "--display-name", "牵头单位")
    run("groups", "add", "legal", "--display-name", "法制机构")
    run("groups", "add", "reform_office", "--display-name", "改革办")
    run("users", "add", "zhang", "--display-name", "张伟", "--group", "drafter", "--unit", "市财政局")
    run("users", "add", "li", "--display-name", "李娜", "--group", "legal")
    run("users", "add", "chen", "--display-name", "陈静", "--group", "reform_office")
    return run


def as_json(result):
    return json.loads(result.stdout)


def test_a_plan_is_named_by_its_id_or_its_business_key(cli):
    """People say DT-2015-04, not #4: every command that names a plan takes either."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("start", "mini_approval", "--as", "zhang", "--business-key", "DT-2015-04")
    cli("start", "mini_approval", "--as", "zhang", "--business-key", "3")
    assert as_json(cli("instance", "DT-2015-04", "--json"))["id"] == 1
    # digits only are read as an id: plan 2 (whose key is 3), and no plan 3
    assert as_json(cli("instance", "2", "--json"))["business_key"] == "3"
    assert "方案 3 不存在 (no such plan: 3)" in cli("instance", "3", ok=False).stderr
    assert as_json(cli("history", "DT-2015-04", "--json"))["id"] == 1
    assert as_json(cli("archive", "DT-2015-04", "--json"))["id"] == 1
    assert {t["instance_id"] for t in as_json(cli("tasks", "--as", "zhang", "--instance", "DT-2015-04", "--json"))[
        "tasks"]} == {1}
    exported = cli("audit", "export", "--instance", "DT-2015-04").stdout.splitlines()
    assert exported and {json.loads(line)["instance_id"] for line in exported} == {1}
    missing = cli("history", "DT-9999", ok=False)
    assert missing.exit_code == 5 and "没有业务编号为 DT-9999 的方案 (no plan with business key DT-9999)" in missing.stderr


def test_an_id_no_plan_has_is_refused_as_a_key_no_plan_has_is(cli):
    """An auditor exporting plan 99's trail, or an office looking at its tasks, was given nothing
    and exit 0, as if the plan had no events: a plan that does not exist is not_found."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("start", "mini_approval", "--as", "zhang")
    for args in (["audit", "export", "--instance", "99"], ["tasks", "--as", "chen", "--instance", "99"]):
        refused = cli(*args, "--json", ok=False)
        assert refused.exit_code == 5, refused.output
        assert as_json(refused) == {"error": "not_found", "message": "方案 99 不存在 (no such plan: 99)"}
    assert {json.loads(line)["instance_id"] for line in cli("audit", "export", "--instance", "1").stdout.splitlines()} == {1}


def test_a_plan_through_the_command_line(cli):
    deployed = as_json(cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"), "--json"))
    assert deployed["definitions"][0] | {"deployed_at": None} == deployed["definitions"][0] | {
        "key": "mini_approval", "version": 1, "status": "created", "deployed_at": None}
    listed = as_json(cli("definitions", "--json"))["definitions"]
    assert [(d["key"], d["version"]) for d in listed] == [("mini_approval", 1)]
    plan = as_json(cli("--now", "2026-01-31T10:00:00", "start", "mini_approval", "--as", "zhang",
                       "--title", "测试方案", "--business-key", "T-1", "--data", '{"summary": "预填"}', "--json"))
    assert plan["id"] == 1 and plan["business_key"] == "T-1" and plan["title"] == "测试方案"
    [draft] = plan["tasks"]
    assert draft["due_at"] == "2026-02-07T02:00:00+00:00"
    mine = as_json(cli("tasks", "--as", "zhang", "--scope", "mine", "--json"))["tasks"]
    assert [t["id"] for t in mine] == [draft["id"]]
    for key in ("id", "instance_id", "element_id", "name", "status", "assignee", "candidate_groups",
                "candidate_users", "due_at", "priority"):
        assert key in mine[0]
    cli("complete", str(draft["id"]), "--as", "zhang", "--data", '{"summary": "方案摘要"}')
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    cli("claim", str(review["id"]), "--as", "li")
    refused = cli("claim", str(review["id"]), "--as", "chen", "--json", ok=False)
    assert refused.exit_code == 6
    assert as_json(refused)["error"] == "conflict"
    assert refused.stderr.count("\n") == 1 and "li" in refused.stderr
    bad = cli("complete", str(review["id"]), "--as", "li", "--data", '{"decision": "maybe"}', "--json", ok=False)
    assert bad.exit_code == 3 and as_json(bad)["details"][0]["field"] == "decision"
    cli("complete", str(review["id"]), "--as", "li", "--data", '{"decision": "approve"}')
    view = as_json(cli("instance", "1", "--json"))
    assert (view["status"], view["definition_key"], view["definition_version"]) == ("completed", "mini_approval", 1)
    assert view["variables"]["summary"] == "方案摘要"


def test_someone_not_a_candidate_is_told_so_not_to_claim_first(cli):
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    [draft] = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))["tasks"]
    cli("complete", str(draft["id"]), "--as", "zhang", "--data", '{"summary": "方案摘要"}')
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    # zhang cannot claim the legal review: "claim the task first" sent him to a refusal
    refused = cli("complete", str(review["id"]), "--as", "zhang", "--data", "{}", ok=False)
    assert refused.exit_code == 4
    assert f"您不是任务 {review['id']}「{review['name']}」的候选人" in refused.stderr and "请改革办指派" in refused.stderr
    # li can: she is told to claim it
    assert "请先认领" in cli("complete", str(review["id"]), "--as", "li", "--data", "{}", ok=False).stderr
    # the office assigning to someone outside the candidates is told whom it may assign to
    wrong = cli("assign", str(review["id"]), "--to", "zhang", "--as", "chen", ok=False)
    assert wrong.exit_code == 4 and "只能指派给角色 legal 的成员" in wrong.stderr and "请先把其" not in wrong.stderr

def test_refusals_and_their_exit_codes(cli):
    assert cli("claim", "99", "--as", "li", "--json", ok=False).exit_code == 5
    assert as_json(cli("start", "nothing", "--as", "zhang", "--json", ok=False))["error"] == "not_found"
    assert cli("start", "nothing", "--as", "nobody", ok=False).exit_code == 4
    assert cli("start", "x", "--as", "zhang", "--data", "[1]", ok=False).exit_code == 3
    evil = FIXTURES / "diagrams" / "mini_approval.bpmn"
    text = evil.read_text(encoding="utf-8").replace("${workingDays(15)}", "${__import__('os')}")
    path = evil.parent.parent.parent / "evil_tmp.bpmn"
    try:
        path.write_text(text, encoding="utf-8")
        refused = cli("deploy", str(path), "--json", ok=False)
        assert refused.exit_code == 3 and "Task_Review" in as_json(refused)["message"]
        checked = cli("check", str(path), "--json", ok=False)
        assert checked.exit_code == 3
        assert any(p["element_id"] == "Task_Review" for p in as_json(checked)["problems"])
    finally:
        path.unlink()


def _the_library_groups(cli):
    from .conftest import ROLES
    for code, name in ROLES.items():
        if code not in ("drafter", "legal", "reform_office"):  # the fixture has these
            cli("groups", "add", code, "--display-name", name)


def test_the_library_checks_clean(cli):
    _the_library_groups(cli)
    result = cli("check", *[str(p) for p in sorted(BPMN.glob("*.bpmn"))], "--json")
    report = as_json(result)
    assert report["errors"] == 0 and report["warnings"] == 0, report["problems"]


def test_a_group_the_database_does_not_have_is_a_warning_at_check_and_deploy(cli, tmp_path):
    """A misspelt candidate group deploys fine and leaves a task nobody can claim: say so."""
    typo = tmp_path / "mini_approval.bpmn"
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    assert 'camunda:candidateGroups="legal, reform_office"' in xml
    typo.write_text(xml.replace('camunda:candidateGroups="legal, ', 'camunda:candidateGroups="legals, '),
                    encoding="utf-8")
    report = as_json(cli("check", str(typo), "--json"))
    [warning] = [p for p in report["problems"] if p["rule"] == "directory"]
    assert (warning["severity"], warning["element_id"]) == ("warning", "Task_Review")
    assert "'legals'" in warning["message"] and "did you mean legal?" in warning["message"]
    deployed = cli("deploy", str(typo), "--as", "chen")  # deployed all the same, and said
    assert "[directory]" in deployed.stderr and "legals" in deployed.stderr


def test_deploy_says_every_warning_check_finds_not_only_the_directory_ones(cli, tmp_path):
    """A misspelt variable in a condition deployed as a new version without a word, though `check`
    warns of it; plans started on that version fail where they reach it."""
    typo = tmp_path / "mini_approval.bpmn"
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    assert "!empty returnReason}" in xml
    typo.write_text(xml.replace("!empty returnReason}", "!empty returnRemark}"), encoding="utf-8")
    [warning] = [p for p in as_json(cli("check", str(typo), "--json"))["problems"] if p["rule"] == "variable"]
    assert warning["severity"] == "warning"
    deployed = cli("deploy", str(typo), "--as", "chen", "--json")  # deployed all the same, and said
    [definition] = as_json(deployed)["definitions"]
    assert (definition["status"], definition["version"]) == ("created", 1)
    assert warning in definition["warnings"]
    assert {w["severity"] for w in definition["warnings"]} == {"warning"}  # not the lint's infos
    again = cli("deploy", str(typo), "--as", "chen")  # unchanged, and said again on standard error
    assert "[variable]" in again.stderr and "returnRemark" in again.stderr


def test_a_group_not_added_yet_is_not_taken_for_a_typo_of_another(cli, tmp_path):
    """gov_office is a real group not created yet: the warning says so without suggesting reform_office."""
    diagram = tmp_path / "mini_approval.bpmn"
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    diagram.write_text(xml.replace('camunda:candidateGroups="legal, ', 'camunda:candidateGroups="gov_office, '),
                       encoding="utf-8")
    [warning] = [p for p in as_json(cli("check", str(diagram), "--json"))["problems"] if p["rule"] == "directory"]
    assert "指定的角色 'gov_office' 在此数据库中不存在。" in warning["message"]
    assert "did you mean" not in warning["message"] and "是否应为" not in warning["message"]


def _csv_fields(path) -> list[dict]:
    """The CSV export's rows by field: its headers say each in brackets, `序号 (seq)`."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return [{k.rsplit("(", 1)[-1].rstrip(")"): v for k, v in r.items()} for r in rows]


def test_audit_export_lets_anyone_recompute_the_chain(cli, tmp_path):
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("start", "mini_approval", "--as", "zhang")
    out = tmp_path / "audit.csv"
    cli("audit", "export", "--format", "csv", "--output", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese only with the mark
    rows = _csv_fields(out)
    assert [r["event_type"] for r in rows][-3:] == ["deployed", "instance_started", "task_created"]
    previous = "0" * 64
    for r in rows:
        material = json.dumps([int(r["seq"]), r["occurred_at"], r["actor"], r["event_type"],
                               int(r["instance_id"]) if r["instance_id"] else None,
                               int(r["task_id"]) if r["task_id"] else None, r["payload"], previous]
                              + ([r["recorded_at"]] if r["recorded_at"] else [])
                              + ([r["channel"], int(r["token_id"]) if r["token_id"] else None] if r["channel"] else []),
                              ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(material.encode()).hexdigest() == r["hash"]
        previous = r["hash"]
    jsonl = cli("audit", "export", "--instance", "1").stdout.splitlines()
    assert {json.loads(line)["instance_id"] for line in jsonl} == {1}
    assert cli("audit", "verify").exit_code == 0



def test_an_export_to_a_csv_file_is_csv_without_saying_format(cli, tmp_path):
    """`audit export --output 审计.csv` wrote JSON lines into the .csv file, which Excel shows as
    one column of braces; the file's extension names the format when --format does not."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    out = tmp_path / "审计.csv"
    cli("audit", "export", "--output", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = _csv_fields(out)
    assert [r["event_type"] for r in rows][-1] == "deployed" and rows[0]["seq"] == "1"
    # any other name, or --format given, is as before
    cli("audit", "export", "--output", str(tmp_path / "trail.txt"))
    assert json.loads((tmp_path / "trail.txt").read_text(encoding="utf-8").splitlines()[0])["seq"] == 1
    cli("audit", "export", "--format", "jsonl", "--output", str(tmp_path / "lines.CSV"))
    assert json.loads((tmp_path / "lines.CSV").read_text(encoding="utf-8").splitlines()[0])["seq"] == 1


def test_an_export_or_anchor_it_cannot_write_is_refused_in_a_sentence_and_leaves_no_file(cli, tmp_path):
    missing = tmp_path / "no-such-folder"
    for args in (["audit", "export", "--output", str(missing / "trail.jsonl")],
                 ["audit", "anchor", "--as", "chen", "--output", str(missing / "anchor.json")]):
        refused = cli(*args, ok=False)
        assert refused.exit_code == 3, refused.output  # was a FileNotFoundError traceback, exit 1
        assert refused.stderr.startswith("reformflow: invalid: 无法写入") and refused.stderr.count("\n") == 1
    # the anchor that could not be kept was not recorded either
    events = [json.loads(line)["event_type"] for line in cli("audit", "export").stdout.splitlines()]
    assert "audit_anchored" not in events
    assert cli("audit", "verify").exit_code == 0


def test_a_refused_export_leaves_no_empty_file_and_an_older_one_as_it_was(tmp_path):
    empty = tmp_path / "empty.sqlite3"  # a database file without reformflow's tables
    empty.touch()
    older = tmp_path / "trail.jsonl"
    older.write_text("yesterday's export\n", encoding="utf-8")
    runner = CliRunner()
    for name in ("trail.jsonl", "new.csv"):
        result = runner.invoke(main, ["--db", f"sqlite:///{empty}", "audit", "export", "--format",
                                      "csv" if name.endswith("csv") else "jsonl", "--output", str(tmp_path / name)])
        assert result.exit_code == 3 and "reformflow init" in result.stderr
    assert older.read_text(encoding="utf-8") == "yesterday's export\n"
    # no new.csv, no temporary file (SQLite's own -wal and -shm aside)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("empty.")) == ["trail.jsonl"]


CORPUS = FIXTURES / "corpus"


def test_messages_and_signals_from_the_command_line(cli):
    cli("deploy", str(CORPUS / "message_intermediate.bpmn"), str(CORPUS / "signal_intermediate.bpmn"))
    waiting = as_json(cli("start", "corpus_message_intermediate", "--as", "zhang", "--json"))
    assert waiting["tasks"] == []
    wrong = cli("message", str(waiting["id"]), "别的消息", "--as", "zhang", "--json", ok=False)
    assert wrong.exit_code != 0 and "上级批复" in as_json(wrong)["message"]
    after = as_json(cli("message", str(waiting["id"]), "上级批复", "--as", "zhang",
                        "--data", '{"approvalNumber": "晋政函〔2026〕12号"}', "--json"))
    assert [t["name"] for t in after["tasks"]] == ["落实批复"]
    assert after["variables"]["approvalNumber"] == "晋政函〔2026〕12号"
    # waiting for nothing now: the refusal says what to do, not "waiting for: none"
    again = cli("message", str(waiting["id"]), "上级批复", "--as", "zhang", ok=False)
    assert again.exit_code == 6 and f"方案 {waiting['id']} 此时不等待任何消息；请核对方案编号，或在方案办到等待「上级批复」" \
        "的环节后再发送" in again.stderr

    plans = [as_json(cli("start", "corpus_signal_intermediate", "--as", "zhang", "--json"))["id"] for _ in range(2)]
    refused = cli("signal", "年度改革计划发布", "--as", "zhang", "--json", ok=False)
    assert as_json(refused)["error"] == "forbidden"
    sent = as_json(cli("signal", "年度改革计划发布", "--as", "chen", "--json"))
    assert sorted(r["instance_id"] for r in sent["delivered"]) == sorted(plans)


def test_a_database_never_initialised_gets_a_clear_json_refusal(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", f"sqlite:///{tmp_path / 'new.sqlite3'}", "tasks", "--as", "zhang", "--json"])
    assert result.exit_code == 3
    refusal = json.loads(result.stdout)
    assert refusal["error"] == "invalid" and "reformflow init" in refusal["message"]


def test_a_command_run_where_there_is_no_database_creates_none_and_names_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # e.g. a terminal left in another folder than the one `make run` used
    monkeypatch.delenv("REFORMFLOW_DATABASE_URL", raising=False)
    runner = CliRunner()
    for args in (["tasks", "--as", "chen"], ["audit", "verify"], ["ledger"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 3, result.output
        assert str(tmp_path / "instance" / "reformflow.sqlite3") in result.stderr and "reformflow init" in result.stderr
    assert list(tmp_path.iterdir()) == []  # was an empty instance/reformflow.sqlite3 and "no such table"
    assert runner.invoke(main, ["init"]).exit_code == 0  # init still creates it
    assert (tmp_path / "instance" / "reformflow.sqlite3").exists()
    assert runner.invoke(main, ["tasks", "--as", "chen"]).exit_code == 4  # now: unknown user, as any database says

def test_init_creates_the_folder_its_db_names(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'reformflow.sqlite3'}"
    result = CliRunner().invoke(main, ["--db", url, "init"])
    # was: "unable to open database file … 新数据库请先运行 `reformflow init`", to someone who just had
    assert result.exit_code == 0, result.output
    assert "schema created" in result.stdout and (tmp_path / "new" / "folder" / "reformflow.sqlite3").exists()

def test_a_postgresql_database_that_does_not_exist_is_said_to_need_createdb_not_init(postgres_url):
    missing = postgres_url.rsplit("/", 1)[0] + "/reformflow_no_such_database"
    for args in (["init"], ["tasks", "--as", "chen"]):
        result = CliRunner().invoke(main, ["--db", missing, *args])
        assert result.exit_code == 3, result.output
        # was "新数据库请先运行 `reformflow init`", which cannot create a PostgreSQL database
        assert "createdb" in result.stderr and "does not exist" in result.stderr

def test_a_server_or_role_that_cannot_be_reached_is_said_to_need_checking_not_init(postgres_url):
    """`--db postgresql://nobody_qa@…` said 'role "nobody_qa" does not exist。新数据库请先运行 reformflow init':
    init connects the same way and cannot help. The URL, the role, the password and the server can."""
    base = postgres_url.split("://", 1)[1].split("@", 1)[1]  # host:port/db of the test server
    for url in (f"postgresql://nobody_qa@{base}",  # no such role
                "postgresql://postgres@127.0.0.1:5509/test"):  # nothing listens there
        for args in (["tasks", "--as", "chen"], ["init"], ["tasks", "--as", "chen", "--json"]):
            result = CliRunner().invoke(main, ["--db", url, *args])
            assert result.exit_code == 3, result.output
            assert "reformflow init" not in result.stderr, result.stderr
            assert "无法连接数据库" in result.stderr and "请检查 --db / REFORMFLOW_DATABASE_URL 中的主机、端口、数据库名和角色" \
                in result.stderr and "and that the server is running" in result.stderr


def test_a_database_with_no_tables_yet_is_still_told_to_run_init(postgres_url):
    import uuid

    from sqlalchemy import create_engine, text
    name = f"ops_fix_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        result = CliRunner().invoke(main, ["--db", postgres_url.rsplit("/", 1)[0] + "/" + name, "tasks", "--as", "chen"])
        assert result.exit_code == 3 and "新数据库请先运行 `reformflow init`" in result.stderr, result.output
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_check_without_a_database_creates_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REFORMFLOW_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["check", str(BPMN / "filing.bpmn"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["errors"] == 0
    assert not (tmp_path / "instance").exists()


def test_usage_errors_are_answered_in_json_by_the_console_script(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    script = Path(sys.executable).parent / "reformflow"
    result = subprocess.run([str(script), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "deploy",
                             str(tmp_path / "missing.bpmn"), "--json"], capture_output=True, text=True)
    assert result.returncode == 2
    refusal = json.loads(result.stdout)
    assert refusal["error"] == "invalid" and "missing.bpmn" in refusal["message"]
    assert "does not exist" in result.stderr


def test_each_library_file_checks_clean_on_its_own_once_the_library_is_deployed(cli):
    """Variables a called process shares with its caller count once the caller is deployed,
    so an analyst can check the one file they changed."""
    files = sorted(BPMN.glob("*.bpmn"))
    _the_library_groups(cli)
    cli("deploy", *map(str, files))
    for path in files:
        report = as_json(cli("check", str(path), "--json"))
        assert (report["errors"], report["warnings"]) == (0, 0), (path.name, report["problems"])


def test_people_read_deadlines_and_times_in_beijing_time(cli):
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = as_json(cli("--now", "2026-01-31T10:00:00", "start", "mini_approval", "--as", "zhang", "--json"))
    assert plan["tasks"][0]["due_at"] == "2026-02-07T02:00:00+00:00"  # scripts get the exact instant
    line = cli("--now", "2026-02-07T09:59:00", "tasks", "--as", "zhang").stdout
    assert "期限 (due) 2026-02-07 10:00" in line and "已逾期" not in line
    late = cli("--now", "2026-02-07T10:00:00", "tasks", "--as", "zhang").stdout
    assert "期限 (due) 2026-02-07 10:00 已逾期" in late
    listed = cli("definitions").stdout
    deployed = as_json(cli("definitions", "--json"))["definitions"][0]["deployed_at"]
    assert _local(deployed) in listed and deployed not in listed


def test_a_deadline_written_as_a_date_shows_as_that_date():
    # a date deadline is stored as the next local midnight: 23 November runs to its end
    assert _deadline("2026-11-23T16:00:00+00:00", active=False) == "2026-11-23"
    with clock.frozen(datetime(2026, 11, 23, 23, 59)):  # Beijing time
        assert _deadline("2026-11-23T16:00:00+00:00", active=True) == "2026-11-23"
    with clock.frozen(datetime(2026, 11, 24, 0, 0)):
        assert _deadline("2026-11-23T16:00:00+00:00", active=True) == "2026-11-23 已逾期"
    assert _deadline("2026-11-24T01:30:00+00:00", active=False) == "2026-11-24 09:30"


def test_an_inbox_line_names_the_plan_it_belongs_to(cli):
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("start", "mini_approval", "--as", "zhang", "--title", "深化国资国企改革方案", "--business-key", "DT-2015-07")
    cli("start", "mini_approval", "--as", "zhang", "--title", "无编号方案")
    [numbered, plain] = sorted(as_json(cli("tasks", "--as", "zhang", "--json"))["tasks"], key=lambda t: t["id"])
    assert (numbered["plan_title"], numbered["business_key"]) == ("深化国资国企改革方案", "DT-2015-07")
    assert (plain["plan_title"], plain["business_key"]) == ("无编号方案", None)
    lines = cli("tasks", "--as", "zhang").stdout.splitlines()
    assert any(line.endswith("— DT-2015-07 深化国资国企改革方案") for line in lines)
    assert any(line.endswith(f"— #{plain['instance_id']} 无编号方案") for line in lines)


def test_init_and_the_worker_warn_of_a_coming_year_without_a_holiday_calendar(cli):
    # chinesecalendar 1.11.0 knows 2004–2026: from October, deadlines can reach into 2027
    december = cli("--now", "2026-12-01T09:00:00", "init")
    assert "no holiday calendar for 2027" in december.stderr and "reformflow calendar import" in december.stderr
    assert "no holiday calendar" not in cli("--now", "2026-06-01T09:00:00", "init").stderr
    worker = cli("--now", "2026-12-01T09:00:00", "worker", "--rounds", "1", "--interval", "0")
    assert "no holiday calendar for 2027" in worker.stderr
    # once the reform office enters the year's schedule, the warning goes
    cli("calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
    assert "no holiday calendar" not in cli("--now", "2026-12-01T09:00:00", "init").stderr


def test_timers_run_clears_a_backlog_bigger_than_one_batch_and_says_how_far_it_got(cli, sqlite_db):
    from engine.commands import Engine
    cli("deploy", str(FIXTURES / "diagrams" / "deadline_months.bpmn"))
    engine = Engine(sqlite_db)
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        for _ in range(101):  # one more than a batch
            engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})
    result = cli("--now", "2026-03-05T09:00:00", "timers", "run", "--json")
    assert len(as_json(result)["fired"]) == 101
    assert "timers fired in 100 plan(s) so far" in result.stderr
    assert as_json(cli("--now", "2026-03-05T09:00:00", "timers", "run", "--json")) == {"fired": [], "failed": []}


def test_a_plan_whose_timer_cannot_run_on_does_not_hold_up_the_others(cli, sqlite_db):
    from engine.commands import Engine
    months = FIXTURES / "diagrams" / "deadline_months.bpmn"
    xml = months.read_text(encoding="utf-8")
    # version 1: the escalation's candidate group is an expression over a variable nobody sets
    broken = xml.replace('camunda:candidateGroups="reform_office"', 'camunda:candidateGroups="${1 / zero}"')
    assert broken != xml
    engine = Engine(sqlite_db)
    engine.deploy([(months.name, broken.encode("utf-8"))])
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        bad = engine.start("deadline_months", actor="zhang", data={"wait": "P1M", "zero": 0})["id"]
    engine.deploy([(months.name, xml.encode("utf-8"))])  # version 2, fixed; the bad plan stays on 1
    with clock.frozen(datetime.fromisoformat("2026-02-01T10:00:00")):  # due a day after the bad one
        good = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})["id"]
    result = cli("--now", "2026-03-05T09:00:00", "timers", "run", "--json", ok=False)
    assert result.exit_code == 3
    out = as_json(result)
    assert [(f["instance_id"], f["timers"]) for f in out["fired"]] == [(good, ["Event_Deadline"])]
    assert [(f["instance_id"], f["error"]) for f in out["failed"]] == [(bad, "invalid")]
    assert f"plan {bad}: timer not fired" in result.stderr
    # the bad plan changed nothing and is still due: the next run tries it again
    assert [t["element_id"] for t in engine.instance(bad)["tasks"]] == ["Task_Wait"]
    # the worker says when it tries again, and does not repeat itself every round meanwhile
    worker = cli("--now", "2026-03-05T09:00:00", "worker", "--rounds", "3", "--interval", "0")
    assert worker.stderr.count(f"plan {bad}: timer not fired") == 1
    assert "next try 2026-03-05 09:01" in worker.stderr  # --now is Beijing time, as shown
    # with --json, a log collector gets the failure as data too, on the round it was tried
    rounds = cli("--now", "2026-03-05T09:02:00", "worker", "--rounds", "1", "--interval", "0", "--json")
    [line] = rounds.stdout.splitlines()
    assert [(f["instance_id"], f["error"]) for f in json.loads(line)["failed"]] == [(bad, "invalid")]


def test_calendar_set_counts_the_deadlines_across_the_day_again(cli):
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    at = ["--now", "2026-12-18T09:00:00"]
    plan = as_json(cli(*at, "start", "mini_approval", "--as", "zhang", "--json"))
    cli(*at, "complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "s"}')
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert review["due_at"] == "2027-01-11T16:00:00+00:00"  # 15 working days, 1 Jan off by law
    # and its Beijing date, as the JSON API gives it: the UTC date of due_at is the day before
    # (the year-end audit of 6 December 2026: a script took 2027-01-11T16:00Z for the 12th)
    assert review["due_on"] == "2027-01-11"
    assert as_json(cli("task", str(review["id"]), "--json"))["due_on"] == "2027-01-11"
    assert [t["due_on"] for t in as_json(cli("instance", str(plan["id"]), "--json"))["tasks"]] == ["2027-01-11"]
    # an audit event's payload is printed as recorded (and hashed): nothing added to it
    history = json.dumps(as_json(cli("history", str(plan["id"]), "--json")), ensure_ascii=False)
    assert '"due_at": "2027-01-11T16:00:00+00:00"' in history and "due_on" not in history
    # a bridging day off (Monday 4 Jan) moves it a working day on
    entered = as_json(cli(*at, "calendar", "set", "2027-01-04", "--off", "--note", "元旦调休", "--as", "chen", "--json"))
    assert entered["moved"] == [{"instance_id": plan["id"], "timers": [], "tasks": [
        {"task_id": review["id"], "element_id": "Task_Review", "name": "审核",
         "old": "2027-01-11T16:00:00+00:00", "new": "2027-01-12T16:00:00+00:00"}]}]
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert review["due_at"] == "2027-01-12T16:00:00+00:00"
    # a swapped working Saturday (9 Jan) moves it back, and the plain output says so
    shown = cli(*at, "calendar", "set", "2027-01-09", "--working", "--as", "chen").stdout
    assert f"待办 (task) {review['id']} 审核 期限 (due) 2027-01-12 → 2027-01-11" in shown


def test_deploy_as_an_unknown_user_is_refused(cli):
    diagram = str(FIXTURES / "diagrams" / "mini_approval.bpmn")
    refused = cli("deploy", diagram, "--as", "nobody", "--json", ok=False)
    assert refused.exit_code == 4 and as_json(refused)["error"] == "forbidden"
    assert refused.stderr == "reformflow: forbidden: 用户 nobody 不存在或已停用；请核对用户名，在岗人员见 reformflow users list (unknown or inactive user: check the name; `reformflow users list` lists who is active)\n"
    assert as_json(cli("definitions", "--json"))["definitions"] == []
    deployed = as_json(cli("deploy", diagram, "--as", "chen", "--json"))["definitions"]
    assert [(d["version"], d["deployed_by"]) for d in deployed] == [(1, "chen")]
    # a named person must be of the reform office, as in the browser (web/analyst.py may_deploy)
    other = str(FIXTURES / "diagrams" / "deadline_months.bpmn")
    refused = cli("deploy", other, "--as", "zhang", "--json", ok=False)
    assert refused.exit_code == 4 and as_json(refused)["error"] == "forbidden"
    assert "只有改革办可以部署流程" in refused.stderr and "only the reform office deploys processes" in refused.stderr
    assert [d["key"] for d in as_json(cli("definitions", "--json"))["definitions"]] == ["mini_approval"]
    # without --as the deploy is the system's, as before (scripts, `make run`)
    cli("deploy", str(FIXTURES / "diagrams" / "deadline_months.bpmn"))


def test_deploy_keeps_the_file_name_without_the_folders_it_was_given_with(cli, tmp_path, monkeypatch):
    """`deploy m1/mini_approval.bpmn` kept `m1/mini_approval.bpmn` as the file name (an absolute path
    too): the 流程定义 list, the JSON and the audit trail showed the analyst's folders, and the same
    file looked different by where it was deployed from. The web's upload keeps the name alone."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m1").mkdir()
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    (tmp_path / "m1" / "mini_approval.bpmn").write_text(xml, encoding="utf-8")
    [deployed] = as_json(cli("deploy", "m1/mini_approval.bpmn", "--json"))["definitions"]
    assert deployed["file_name"] == "mini_approval.bpmn"
    changed = tmp_path / "elsewhere" / "mini_approval.bpmn"  # version 2 from another folder, by its full path
    changed.parent.mkdir()
    changed.write_text(xml.replace('name="审核"', 'name="审核（改）"', 1), encoding="utf-8")
    assert 'name="审核（改）"' in changed.read_text(encoding="utf-8")
    cli("deploy", str(changed))
    listed = as_json(cli("definitions", "--all-versions", "--json"))["definitions"]
    assert [(d["version"], d["file_name"]) for d in listed] == [(2, "mini_approval.bpmn"), (1, "mini_approval.bpmn")]
    trail = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    assert [json.loads(e["payload"])["file"] for e in trail if e["event_type"] == "deployed"] == ["mini_approval.bpmn"] * 2
    # what is said about the files still names them as given, so the analyst finds the one meant
    assert "m1/mini_approval.bpmn" in cli("changes", "m1/mini_approval.bpmn").stdout


@pytest.fixture
def script(cli, sqlite_db, monkeypatch, capsys):
    """The console script as a user runs it (usage errors answered like refusals): exit status,
    standard output, standard error."""
    from engine.cli import run

    def call(*args, db=sqlite_db.url):
        monkeypatch.setattr("sys.argv", ["reformflow", "--db", db, *args])
        capsys.readouterr()
        code = 0
        try:
            run()
        except SystemExit as exited:
            code = exited.code
        out, err = capsys.readouterr()
        return code, out, err
    return call


@pytest.mark.parametrize("args, name", [
    (["instance", "99999999999999999999"], "'PLAN'"),
    (["claim", "99999999999999999999", "--as", "li"], "'TASK_ID'"),
    (["complete", "0", "--as", "li"], "'TASK_ID'"),
    (["tasks", "--as", "li", "--instance", "99999999999999999999"], "'--instance'"),
    (["audit", "export", "--instance", "-1"], "'--instance'"),
    (["calendar", "show", "99999"], "'YEAR'"),
    (["calendar", "show", "0"], "'YEAR'"),
    (["calendar", "set", "9999-12-31", "--off", "--as", "chen"], "'DAY'"),
    (["--now", "0001-01-01T00:00", "tasks", "--as", "li"], "'--now'"),
    (["--now", "9999-12-31T23:59-08:00", "tasks", "--as", "li"], "'--now'"),
    (["worker", "--interval", "-1", "--rounds", "1"], "'--interval'"),
    # an operator's "-1 for ever" started a worker that stopped at once with exit status 0
    (["worker", "--rounds", "-1"], "'--rounds'"),
    (["worker", "--rounds", "0"], "'--rounds'"),
])
def test_out_of_range_values_are_refused_in_one_line_not_a_traceback(script, args, name):
    code, out, err = script(*args, "--json")
    assert code == 2  # a usage error, as docs/cli.md says of a bad --now
    assert err.count("\n") == 1 and err.startswith(f"reformflow: invalid: {name} 取值无效：")
    assert "(invalid value for" in err and "Traceback" not in err
    gloss = err[err.index("(invalid value for"):]
    assert gloss.isascii(), gloss  # the English in brackets once, not click's "不在范围 … 内 (…)" inside it
    assert json.loads(out)["error"] == "invalid"


@pytest.mark.parametrize("url", ["bogus://x", "not a url", "mysql://host/db"])
def test_a_database_url_reformflow_cannot_use_is_an_invalid_refusal(script, url):
    code, out, err = script("tasks", "--as", "li", "--json", db=url)
    assert code == 3 and json.loads(out)["error"] == "invalid"
    assert err.count("\n") == 1
    assert err.startswith("reformflow: invalid: 数据库地址无法使用，请检查 --db") and "(not a database URL" in err


def test_ids_up_to_the_largest_the_id_columns_hold_are_looked_up(db):
    # ids are INTEGER columns: 2**31 - 1 on PostgreSQL (a bigger one would fail the query there)
    runner, largest = CliRunner(), str(2**31 - 1)

    def call(*args):
        return runner.invoke(main, ["--db", db.url, *args, "--json"], catch_exceptions=False)
    assert call("instance", largest).exit_code == 5
    assert json.loads(call("audit", "export", "--instance", largest).stdout)["error"] == "not_found"
    assert call("instance", str(2**31)).exit_code == 2
    assert json.loads(call("calendar", "show", "2100").stdout)["year"] == 2100


@pytest.mark.parametrize("flags", [[], ["--off", "--working"], ["--working", "--off"]])
def test_calendar_set_takes_exactly_one_of_off_and_working(script, flags):
    code, out, err = script("calendar", "set", "2027-12-24", *flags, "--as", "chen", "--json")
    assert code == 2 and json.loads(out)["error"] == "invalid"
    assert err == ("reformflow: invalid: '--off' / '--working' 取值无效：须指定 --off（放假）或 --working（调休上班），"
                   "且只能指定其中一个 (invalid value for '--off' / '--working': give exactly one of --off (a day off) "
                   "or --working (a working day))\n")
    assert [d for d in json.loads(script("calendar", "show", "2027", "--json")[1])["days"] if d["override"]] == []  # nothing entered
    code, out, _ = script("calendar", "set", "2027-12-25", "--working", "--as", "chen", "--json")
    assert code == 0 and json.loads(out)["working"] is True


@pytest.mark.parametrize("args, message", [
    (["users", "add", "", "--display-name", "x"], "用户名不能为空，首尾也不能有空格 (username must not be empty"),
    (["users", "add", " li2", "--display-name", "x"], "用户名不能为空，首尾也不能有空格"),
    (["users", "add", "u" * 65, "--display-name", "x"], "用户名最多 64 个字符，现有 65 个 (username longer than 64"),
    (["users", "add", "ok", "--display-name", ""], "姓名不能为空"),
    (["users", "add", "a b/c", "--display-name", "x"], "用户名不能含有空格或逗号，也不能以 @ 开头（含有「空格」）"),
    (["users", "add", "a,c", "--display-name", "x"], "用户名不能含有空格或逗号，也不能以 @ 开头（含有「,」）"),
    (["users", "add", "@drafter", "--display-name", "x"], "用户名不能含有空格或逗号，也不能以 @ 开头（含有「@」）"),
    (["groups", "add", "", "--display-name", "x"], "角色代码不能为空"),
    (["groups", "add", "g" * 65, "--display-name", "x"], "角色代码最多 64 个字符"),
])
def test_a_user_or_group_name_that_is_blank_or_too_long_is_refused(cli, args, message):
    refused = cli(*args, "--json", ok=False)
    assert refused.exit_code == 3 and as_json(refused)["error"] == "invalid"
    assert refused.stderr.startswith(f"reformflow: invalid: {message}") and refused.stderr.count("\n") == 1
    assert cli("users", "add", "u" * 64, "--display-name", "六十四").exit_code == 0  # the column's length fits


def test_a_username_differing_from_another_only_in_case_is_a_conflict(cli):
    """qa1 and QA1 would stand side by side in every list of people to pick from."""
    refused = cli("users", "add", "ZHANG", "--display-name", "另一个张伟", "--json", ok=False)
    assert as_json(refused)["error"] == "conflict"
    assert "用户名 ZHANG 与已有的 zhang 只差大小写" in refused.stderr
    assert cli("users", "add", "li.na-2", "--display-name", "李娜").exit_code == 0  # dots, hyphens, digits: fine


def test_two_files_defining_one_process_id_are_both_named(cli, tmp_path):
    copy = tmp_path / "filing_copy.bpmn"
    copy.write_bytes((BPMN / "filing.bpmn").read_bytes())
    for command in ("check", "deploy"):
        refused = cli(command, str(BPMN / "filing.bpmn"), str(copy), "--json", ok=False)
        assert refused.exit_code == 3
        errors = [p for p in as_json(refused).get("problems") or as_json(refused)["details"] if p["severity"] == "error"]
        # the process, and its embedded subprocess (报送和审查备案), whose id the copy shares too
        assert sorted((p["file"], p["element_id"]) for p in errors) == [(str(copy), "SubProcess_Filing"),
                                                                       (str(copy), "filing")]
        [problem] = [p for p in errors if p["element_id"] == "filing"]
        assert f"process id filing is also defined in {BPMN / 'filing.bpmn'}" in problem["message"]
        assert "None" not in refused.stdout + refused.stderr


def test_a_file_named_twice_is_read_once(cli, tmp_path, monkeypatch):
    """`deploy bpmn/*.bpmn bpmn/filing.bpmn` (globs that overlap) was refused with SpiffWorkflow's
    "Duplicate process ID", in English only, as if two files defined the process."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini_approval.bpmn").write_bytes((FIXTURES / "diagrams" / "mini_approval.bpmn").read_bytes())
    named = ["mini_approval.bpmn", "mini_approval.bpmn", str(tmp_path / "mini_approval.bpmn")]
    assert as_json(cli("check", *named, "--json"))["errors"] == 0
    [deployed] = as_json(cli("deploy", *named, "--json"))["definitions"]
    assert (deployed["key"], deployed["version"], deployed["status"]) == ("mini_approval", 1, "created")


def test_hostile_files_and_data_are_refused_without_a_traceback(cli):
    """/dev/zero never ends: it was read whole (19 GB before the machine gave out). --data nested
    100000 deep was a RecursionError traceback; NaN and 1e999 were stored as NaN and Infinity."""
    for command in ("check", "deploy"):
        refused = cli(command, "/dev/zero", ok=False)
        assert refused.exit_code == 3 and "/dev/zero: 文件超过 5 MB (file is larger than 5 MB)" in refused.output
    for data, reason in (("[" * 100_000 + "]" * 100_000, "nested too deeply"),
                         ('{"a": NaN}', "NaN is not a finite number"),
                         ('{"a": 1e999}', "1e999 is not a finite number")):
        refused = cli("start", "x", "--as", "zhang", "--data", data, ok=False)
        assert refused.exit_code == 3
        assert refused.stderr == f"reformflow: invalid: --data 不是有效的 JSON (--data is not valid JSON: {reason})\n"


@pytest.mark.parametrize("data, said", [
    ('{“leadUnit”: "市财政局"}', "第 2 个字符是中文引号「“」"),
    ("{'leadUnit': '市财政局'}", "第 2 个字符是单引号「'」"),
    ('{"leadUnit"： "市财政局"}', "第 12 个字符是中文冒号「：」"),
    ('{"leadUnit": "市财政局"， "pilot": true}', "第 20 个字符是中文逗号「，」"),
])
def test_data_typed_with_chinese_punctuation_says_which_character(cli, data, said):
    # typed with a Chinese input method: the decoder's English alone did not say what was wrong
    refused = cli("start", "x", "--as", "zhang", "--data", data, ok=False)
    assert refused.exit_code == 3
    assert refused.stderr.startswith(f"reformflow: invalid: --data 不是有效的 JSON：{said}，字段名和文本须用英文双引号 \"，"
                                     "冒号、逗号须为英文半角 : , (--data is not valid JSON: ")


def test_refusals_are_said_in_chinese_with_the_english_in_brackets(cli):
    def line(*args):
        refused = cli(*args, ok=False)
        assert refused.exit_code != 0 and refused.stderr.count("\n") == 1
        return refused.stderr.rstrip("\n")
    assert line("start", "x", "--as", "zhang", "--data", "{oops") .startswith(
        "reformflow: invalid: --data 不是有效的 JSON (--data is not valid JSON: Expecting property name")
    assert line("start", "x", "--as", "zhang", "--data", "[1]") == \
        "reformflow: invalid: --data 须为 JSON 对象，如 '{\"decision\": \"approve\"}' (--data must be a JSON object)"
    assert line("users", "add", "wu", "--display-name", "吴磊", "--group", "nosuchgroup") == (
        "reformflow: invalid: 角色不存在：nosuchgroup；请先用 `reformflow groups add` 创建 (no such group: "
        "nosuchgroup; add it first)")
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))
    draft = plan["tasks"][0]["id"]
    cli("complete", str(draft), "--as", "zhang", "--data", '{"summary": "s"}')
    assert line("unclaim", str(draft), "--as", "zhang") == \
        f"reformflow: conflict: 任务 {draft} 已办结，不能交回 (task {draft} is completed)"
    [review] = as_json(cli("tasks", "--as", "li", "--scope", "claimable", "--json"))["tasks"]
    assert line("unclaim", str(review["id"]), "--as", "chen") == \
        f"reformflow: conflict: 任务 {review['id']} 当前未被认领 (task {review['id']} is not claimed)"
    assert line("complete", str(draft), "--as", "zhang", "--data", '{"summary": "s"}').endswith(
        ": nothing more to do)")  # their own submission sent again: said so, with when
    # other values (a race with another window lost): not "nothing more to do", but not saved
    assert line("complete", str(draft), "--as", "zhang", "--data", '{"summary": ""}').endswith(
        "differs in “方案摘要” and was NOT saved: see the plan's page for what was submitted)")
    differs = cli("complete", str(draft), "--as", "zhang", "--data", '{"summary": "t"}', "--json", ok=False)
    assert (differs.exit_code, as_json(differs)["reason"]) == (6, "already_yours_differs")


def test_a_submission_sent_back_says_so_and_comes_back_to_the_sender(cli, sqlite_db):
    from engine.commands import Engine

    from engine.drive import answer_for

    from .plan_helper import ANSWERS, Plan, deploy_library
    cli("groups", "add", "special_group", "--display-name", "专项小组")
    cli("users", "add", "sun", "--display-name", "孙强", "--group", "special_group")
    cli("groups", "add", "group_leader", "--display-name", "领导小组组长")
    cli("users", "add", "liu", "--display-name", "刘洋", "--group", "group_leader")
    engine = Engine(sqlite_db)
    deploy_library(engine)
    plan = Plan(engine)
    plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
    review = plan.task("Task_LeadershipGroupMeeting")
    cli("claim", str(review["id"]), "--as", "chen")
    # the meeting decides to discuss it again: the diagram (需再次讨论？) sends the record straight back
    record = {**answer_for(ANSWERS, review, 0), "decision": "discuss_again"}
    shown = cli("complete", str(review["id"]), "--as", "chen", "--data", json.dumps(record, ensure_ascii=False)).stdout
    again = plan.task("Task_LeadershipGroupMeeting")
    assert f"back to you): 待办 (task) {again['id']}：{review['name']}（流程图：需再次讨论？：再次讨论）" in shown
    [mine] = [t for t in as_json(cli("tasks", "--as", "chen", "--scope", "mine", "--json"))["tasks"]
              if t["element_id"] == "Task_LeadershipGroupMeeting"]
    assert (mine["id"], mine["status"]) == (again["id"], "claimed")


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request, tmp_path):
    """An empty database, on SQLite and on PostgreSQL, for `init` to create from nothing."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite3'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    from models.db import normalise_url

    from .conftest import PG_URL
    server = request.getfixturevalue("postgres_url")  # fails, not skips, as the suite requires
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"reformflow_init_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_init_says_whether_it_created_upgraded_or_left_the_schema(blank_url):
    from alembic import command

    from models.db import Database, alembic_config
    runner = CliRunner()

    def init():
        result = runner.invoke(main, ["--db", blank_url, "--now", "2026-06-01T09:00:00", "init"],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout
    # the newest migration and the one before it, as an installation one release behind has it
    from alembic.script import ScriptDirectory
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    before = ScriptDirectory.from_config(config).get_revision(head).down_revision
    assert init().startswith(f"已创建数据库结构，版本 {head} (schema created at {head})，数据库 (database) ")
    db = Database(blank_url)
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before)
        connection.commit()
    db.dispose()
    assert init().startswith(f"数据库结构已从 {before} 升级到 {head} (schema upgraded {before} → {head})，数据库 (database) ")
    assert init().startswith(f"数据库结构已是最新，版本 {head} (schema up to date at {head})，数据库 (database) ")
    shown = json.loads(runner.invoke(main, ["--db", blank_url, "init", "--json"]).stdout)
    assert (shown["schema"], shown["previous_revision"], shown["revision"]) == ("up to date", head, head)


def test_a_worker_started_while_the_database_is_down_retries_each_round():
    # at boot the database may come up after the worker: exiting at once made systemd give up
    down = "postgresql://postgres@127.0.0.1:1/nothing"  # nothing listens on port 1
    result = CliRunner().invoke(main, ["--db", down, "worker", "--rounds", "3", "--interval", "0"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    started, *lines = result.stderr.splitlines()
    assert started.startswith("worker: 已启动")
    assert len(lines) == 3 and all(line.startswith("worker: 本轮未能运行，0 秒后重试 (OperationalError: ")
                                   and line.endswith("; retrying in 0 s)") for line in lines), lines
    # a URL reformflow cannot use is no outage: still refused at once
    assert CliRunner().invoke(main, ["--db", "bogus://x", "worker", "--rounds", "3", "--interval", "0"]).exit_code == 3


@pytest.mark.parametrize("args, option", [
    (["check", "--db", "sqlite:///elsewhere.sqlite3", str(BPMN / "filing.bpmn")], "--db URL"),
    (["tasks", "--as", "li", "--now", "2026-10-01T09:00"], "--now ISO8601"),
    (["tasks", "--as", "li", "--now=2026-10-01T09:00"], "--now ISO8601"),
])
def test_a_global_option_after_the_command_is_refused_with_where_it_goes(script, args, option):
    code, out, err = script(*args, "--json")
    assert code == 2 and json.loads(out)["error"] == "invalid"
    assert err == (f"reformflow: invalid: 全局选项须写在命令之前：reformflow {option} <命令> … (global options "
                   f"go before the command: reformflow {option} <command> …)\n")
    # any other unknown option is still click's usage message
    assert "用法 (Usage): reformflow tasks" in script("tasks", "--as", "li", "--bogus")[2]


@pytest.mark.parametrize("args", [["--json", "tasks", "--as", "li"],
                                  ["--now", "2026-10-01T09:00", "--json", "tasks", "--as", "li"]])
def test_json_before_the_command_is_refused_with_where_it_goes(script, args):
    # the mirror of a global option after the command: click only said "no such option '--json'"
    code, out, err = script(*args)
    assert code == 2 and json.loads(out)["error"] == "invalid"
    assert err == ("reformflow: invalid: --json 须写在命令之后：reformflow <命令> … --json "
                   "(--json goes after the command: reformflow <command> … --json)\n")


def test_calendar_show_warns_once_of_a_year_not_covered_naming_the_command(cli):
    june = ("--now", "2026-06-01T09:00:00")  # from October it also says that 2027 is missing (tests/test_year_end.py)
    shown = cli(*june, "calendar", "show", "2028")
    said = shown.stderr.splitlines()
    assert said == [
        "警告 (warning): 尚无 2028 年节假日安排，涉及该年的工作日期限暂按法定节假日和周末计算，调休未录入；请用 reformflow calendar import FILE --as USER "
        "录入国务院公布的 2028 年放假和调休安排，或用 reformflow calendar set 逐日录入 (no holiday calendar for 2028: working-day deadlines reaching it count the "
        "statutory holidays and weekends only, no swapped days; enter the State Council's 2028 schedule with `reformflow calendar import FILE --as USER`, "
        "or day by day with `reformflow calendar set`)"]
    # what is counted meanwhile: the weekdays off by law (1 January 2028 is a Saturday, made up on Monday)
    listed = shown.stdout.splitlines()
    assert listed[:2] == ["2028-01-03 放假 (day off) 按法律推定的补假 (make-up day guessed by the law)：元旦补假 (New Year's Day, made up)",
                          "2028-01-25 放假 (day off) 法定节假日 (statutory holiday by law)：春节 (Spring Festival)"]
    assert all(line.startswith("2028-") and ("法定节假日 (statutory holiday by law)" in line or "按法律推定的补假" in line) for line in listed)
    assert as_json(cli(*june, "calendar", "show", "2028", "--json"))["warnings"] == [said[0].removeprefix("警告 (warning): ")]
    covered = cli(*june, "calendar", "show", "2026")
    assert "warning" not in covered.stdout + covered.stderr
    assert as_json(cli(*june, "calendar", "show", "2026", "--json"))["warnings"] == []


def test_init_never_prints_the_database_password(postgres_url):
    """init's line ends up in logs: the URL without its password (the test server trusts all)."""
    url = postgres_url.replace("://postgres@", "://postgres:s3cret@")
    assert "s3cret" in url
    for args in (["init"], ["init", "--json"]):
        result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "s3cret" not in result.output + result.stderr and "127.0.0.1" in result.stdout


def test_a_task_page_says_what_to_do_what_the_form_holds_and_how_to_submit(library, at):
    from .plan_helper import Plan
    with at("2026-01-31T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        plan.do("Task_IssuePlan", issueDate="2026-01-31")
    filing = plan.task("Task_FileDocument")

    def page(*args):
        result = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-02-20T09:00:00", "task",
                                           str(filing["id"]), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout
    shown = json.loads(page("--json"))
    assert (shown["id"], shown["plan_title"], shown["status"]) == (filing["id"], "深化财政预算管理制度改革方案", "claimed")
    assert shown["values"] == {"documentNumber": "同改发〔2026〕1号", "issueDate": "2026-01-31", "pilot": False,
                               "filingDeadline": "2026-02-28",  # one month from the issue date
                               "newDeadline": None, "escalationNote": None,  # no 限期报送 ordered
                               "filingDate": None, "filingMaterials": None}
    # the filing date's range as it stands that day: from the issue date to today
    assert shown["bounds"] == {"filingDate": {"min": "2026-01-31", "max": "2026-02-20"}}
    lines = page().splitlines()
    assert lines[1].startswith("  办理要求 (what to do)：自印发之日起一个月内")
    assert lines[2:] == [
        "  表单 (form)：",
        '    文号 documentNumber（文本 string，只读 read-only） = "同改发〔2026〕1号"',
        '    印发日期 issueDate（日期 date，只读 read-only） = "2026-01-31"',
        "    试点方案 pilot（是/否 boolean，只读 read-only） = false",
        '    原备案期限（自印发之日起一个月，试点方案一周，当日24时止） filingDeadline（日期 date，只读 read-only） = "2026-02-28"',
        # the reform office's 限期报送, none yet: read-only and empty, the label saying what that means
        "    改革办责令限期报送至（逾期后改革办另定的期限；显示「—」的为未另定） newDeadline（日期 date，只读 read-only）",
        "    改革办的处理说明（逾期未备案处理；显示「—」的为无） escalationNote（文本 string，只读 read-only）",
        "    报送备案日期 filingDate（日期 date，必填 required，2026-01-31 至 (to) 2026-02-20）",
        "    报送的备案材料 filingMaterials（文本 string，必填 required）",
        f"  提交 (submit)：reformflow complete {filing['id']} --as zhang --data "
        """'{"filingDate": "", "filingMaterials": ""}'""",
        f"  上传附件 (attach a file)：reformflow attach {filing['id']} <文件 FILE> --as zhang",
    ]


def test_an_open_task_page_says_to_claim_it_first_and_lists_the_choices(library, at):
    from .plan_helper import Plan
    with at("2026-01-31T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    review = plan.task("Task_LegalityReview")
    shown = CliRunner().invoke(main, ["--db", library.db.url, "task", str(review["id"])]).stdout
    assert "      取值 (one of)：pass 通过 | pass_with_changes 修改后通过 | fail 不通过" in shown
    assert f"  先认领 (claim first)：reformflow claim {review['id']} --as <用户名 user>" in shown
    missing = CliRunner().invoke(main, ["--db", library.db.url, "task", "999999"])
    assert (missing.exit_code, missing.stderr) == (5, "reformflow: not_found: 任务 999999 不存在；请用 reformflow tasks --as 您的用户名 查看待办编号 "
                                                   "(no such task: 999999; `reformflow tasks --as USER` lists the tasks and their numbers)\n")


def test_a_field_s_range_reads_as_a_person_says_it():
    assert _range("date", {"min": "2026-01-31", "max": "2026-02-20"}) == "2026-01-31 至 (to) 2026-02-20"
    assert _range("date", {"min": "2026-12-04"}) == "不早于 2026-12-04 (not before 2026-12-04)"
    assert _range("date", {"max": "2026-12-03"}) == "不晚于 2026-12-03 (not after 2026-12-03)"
    assert _range("long", {"min": 7}) == "不小于 7 (at least 7)"
    assert _range("long", {"max": 0}) == "不大于 0 (at most 0)"


def test_the_reform_office_lists_what_is_late(library, at):
    from .plan_helper import Plan
    with at("2026-01-31T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        plan.do("Task_IssuePlan", issueDate="2026-01-31")  # filing due by the end of 28 February

    def late(now, user="chen"):
        result = CliRunner().invoke(main, ["--db", library.db.url, "--now", now, "tasks", "--as", user,
                                           "--overdue", "--json"], catch_exceptions=False)
        return [t["element_id"] for t in json.loads(result.stdout)["tasks"]]
    assert late("2026-02-28T23:59:00") == []
    assert late("2026-03-01T00:00:00") == ["Task_FileDocument"]
    assert late("2026-03-01T00:00:00", user="zhang") == ["Task_FileDocument"]  # the holder sees it too
    assert late("2026-03-01T00:00:00", user="li") == []  # not in the legal department's inbox


def test_check_says_in_chinese_why_the_modeler_lint_did_not_run(tmp_path):
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions", encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "check", str(broken)])
    assert result.exit_code == 3
    assert "Camunda Modeler 检查 (lint)：未运行 (skipped: no readable file)" in result.output


def test_deploy_says_its_warnings_as_check_does_with_the_element_name(cli, tmp_path):
    """Deploy's warning lines lacked the element's name that `check` gives: `Task_Review: [...]`."""
    typo = tmp_path / "mini_approval.bpmn"
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    typo.write_text(xml.replace("!empty returnReason}", "!empty returnRemark}"), encoding="utf-8")
    [line] = [line for line in cli("check", str(typo)).stdout.splitlines() if "[variable]" in line]
    assert ": Flow_Return (退回): [variable]" in line
    deployed = cli("deploy", str(typo), "--as", "chen")
    assert line in deployed.stderr.splitlines()


def test_check_against_an_in_memory_database_checks_the_files_alone():
    """`--db sqlite://` (no path: an empty database in memory) was an IndexError traceback."""
    result = CliRunner().invoke(main, ["--db", "sqlite://", "check", str(FIXTURES / "diagrams" / "mini_approval.bpmn"),
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert as_json(result)["errors"] == 0
