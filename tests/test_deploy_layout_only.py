"""A deploy that would add a version though plans run as before (shapes moved, or only a comment
changed) is asked about first: `changes` and the web's 检查 said "只改了图形布局", and deploy then
made version n+1 without a word."""
from __future__ import annotations

import pytest

from .conftest import FIXTURES, ROOT
from .test_cli import as_json, cli  # noqa: F401 - the command line on a database with people

MINI = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
MOVED = MINI.replace('<dc:Bounds x="175" y="30"', '<dc:Bounds x="195" y="30"', 1)
COMMENTED = MINI.replace("<bpmn:process ", "<!-- 2026-12 整理 -->\n  <bpmn:process ", 1)
RENAMED = MINI.replace('name="审核"', 'name="审核（改）"', 1)


def _file(tmp_path, name: str, text: str):
    assert text != MINI
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _versions(cli) -> list[int]:  # noqa: F811
    return [d["version"] for d in as_json(cli("definitions", "--all-versions", "--json"))["definitions"]]


@pytest.fixture
def deployed(cli):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    return cli


@pytest.mark.parametrize("text", [MOVED, COMMENTED], ids=["layout", "comment"])
def test_a_script_is_refused_a_layout_only_file_set_without_yes(deployed, tmp_path, text):
    path = _file(tmp_path, "mini_approval.bpmn", text)
    refused = deployed("deploy", path, ok=False)
    assert refused.exit_code == 3 and refused.stdout == ""
    [line] = refused.stderr.splitlines()  # one line: why, and what to add
    assert line.startswith("reformflow: invalid: mini_approval 只改了图形布局或注释")
    assert "均未部署" in line and "Add --yes to deploy it anyway" in line
    assert _versions(deployed) == [1]
    [made] = as_json(deployed("deploy", path, "--yes", "--json"))["definitions"]
    assert (made["version"], made["status"]) == (2, "created")


def test_a_set_with_a_layout_only_file_is_refused_whole(deployed, tmp_path):
    """All or nothing, as deploy is: the new process beside it waits for --yes too."""
    refused = deployed("deploy", _file(tmp_path, "mini_approval.bpmn", MOVED),
                       str(FIXTURES / "diagrams" / "deadline_months.bpmn"), ok=False)
    assert refused.exit_code == 3 and "mini_approval" in refused.stderr and "deadline_months" not in refused.stderr
    assert [d["key"] for d in as_json(deployed("definitions", "--json"))["definitions"]] == ["mini_approval"]


def test_a_real_change_or_an_unchanged_file_never_needs_yes(deployed, tmp_path):
    unchanged = deployed("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"), "--json")
    assert [d["status"] for d in as_json(unchanged)["definitions"]] == ["unchanged"]
    [made] = as_json(deployed("deploy", _file(tmp_path, "mini_approval.bpmn", RENAMED), "--json"))["definitions"]
    assert made["version"] == 2
    # a process not deployed yet is version 1, asked about by nobody
    [first] = as_json(deployed("deploy", str(FIXTURES / "diagrams" / "deadline_months.bpmn"), "--json"))["definitions"]
    assert first["version"] == 1


def test_on_a_terminal_deploy_asks_and_no_is_the_default(deployed, sqlite_db, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from engine.cli import main
    monkeypatch.setattr("engine.cli.processes._on_a_terminal", lambda: True)
    path = _file(tmp_path, "mini_approval.bpmn", MOVED)
    runner = CliRunner()
    for answer in ("\n", "n\n"):  # Enter alone keeps the default: no
        declined = runner.invoke(main, ["--db", sqlite_db.url, "deploy", path], input=answer)
        assert declined.exit_code == 1
        assert "mini_approval（v1 → " in declined.stderr and "只改了图形布局 (layout only)" in declined.stderr
        assert "仍要部署为新版本吗？" in declined.stderr and "未部署 (nothing deployed)" in declined.stderr
        assert _versions(deployed) == [1]
    accepted = runner.invoke(main, ["--db", sqlite_db.url, "deploy", path], input="y\n")
    assert accepted.exit_code == 0 and "mini_approval v2 已部署新版本 (created)" in accepted.stdout
    assert _versions(deployed) == [2, 1]


def test_errors_are_said_before_the_layout_question(deployed, tmp_path):
    """A set deploy refuses for an error is refused for it at once: asking about the layout first
    had the analyst confirm, or add --yes, only to be refused then."""
    broken = _file(tmp_path, "broken.bpmn", "<bpmn:definitions")
    refused = deployed("deploy", _file(tmp_path, "mini_approval.bpmn", MOVED), broken, ok=False)
    assert refused.exit_code == 3
    assert "部署被拒绝" in refused.stderr and "broken.bpmn" in refused.stderr
    assert "只改了图形布局" not in refused.stderr
    assert _versions(deployed) == [1]


def test_the_web_says_errors_before_asking_about_the_layout(demo_engine):
    """As the command line: 部署 of a set with an error and a layout-only file shows the error,
    not the question whose answer would only lead to it."""
    import io

    from .web_helper import signed_in_client
    filing = (ROOT / "bpmn" / "filing.bpmn").read_bytes()
    moved = filing.replace(b'<dc:Bounds x="', b'<dc:Bounds x="1', 1)
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", data={"action": "deploy", "files": [
        (io.BytesIO(moved), "filing.bpmn"), (io.BytesIO(b"<bpmn:definitions"), "broken.bpmn")]},
        content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert "broken.bpmn" in text and "仍部署为新版本" not in text
    from engine.queries import definitions
    with demo_engine.db.reader() as s:
        assert [d["version"] for d in definitions(s, all_versions=True) if d["key"] == "filing"] == [1]
