"""A step removed, or given a new id, while running plans wait in it: `changes` (on the command
line and the pages) says how many running plans are there and that they finish on their version,
read from the open inbox rows. Over the demo: DT-2015-07 waits in filing's Task_FileDocument (v1),
DT-2015-04 in legality_review's Task_LegalityReview, inside the embedded subprocess SubProcess_Review."""
from __future__ import annotations

import io
import re

from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from engine.diagram_changes import against_deployed, between_versions
from models import HumanTask, ProcessInstance
from models.process import is_open

from .conftest import ROOT
from .web_helper import signed_in_client

FILING = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8")
RENAMED = FILING.replace("Task_FileDocument", "Activity_0file01")  # the Modeler's kind of new id
LEGALITY = (ROOT / "bpmn" / "legality_review.bpmn").read_text(encoding="utf-8")


def _waiting(engine, element_id: str) -> set[str]:
    with engine.db.reader() as s:
        return set(s.execute(select(ProcessInstance.business_key).join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                             .where(HumanTask.element_id == element_id, is_open(HumanTask.status),
                                    ProcessInstance.status == "running")).scalars())


def _by_id(result: dict) -> dict:
    return {c["element_id"]: c for c in result["changes"]}


def test_a_step_given_a_new_id_says_the_plans_waiting_in_it(demo_engine):
    assert _waiting(demo_engine, "Task_FileDocument") == {"DT-2015-07"}
    with demo_engine.db.reader() as s:
        [result] = against_deployed(s, [("filing.bpmn", RENAMED.encode())])
    changes = _by_id(result)
    assert changes["Task_FileDocument"]["change"] == "removed"
    assert changes["Task_FileDocument"]["waiting"] == {"plans": 1, "versions": [1]}
    assert "waiting" not in changes["Activity_0file01"]


def test_a_step_inside_an_embedded_subprocess_counts_too(demo_engine):
    assert _waiting(demo_engine, "Task_LegalityReview") == {"DT-2015-04"}
    removed = LEGALITY.replace('id="Task_LegalityReview"', 'id="Activity_0review"')
    with demo_engine.db.reader() as s:
        [result] = against_deployed(s, [("legality_review.bpmn", removed.encode())])
    assert _by_id(result)["Task_LegalityReview"]["waiting"] == {"plans": 1, "versions": [1]}


def test_reformflow_changes_says_it_for_a_file_and_for_a_deployed_version(demo_engine, tmp_path):
    url = str(demo_engine.db.url)
    renamed = tmp_path / "filing.bpmn"
    renamed.write_text(RENAMED, encoding="utf-8")
    runner = CliRunner()
    note = ("    注意：1 个进行中的方案正停在这一步，仍按第 1 版办完，不受新版本影响 (note: 1 running plan(s) are at this "
            "step; they finish on version 1, which the new version does not change)")
    lines = runner.invoke(main, ["--db", url, "changes", str(renamed)]).stdout.splitlines()
    removed = lines.index("  删除 (removed) 用户任务 (user task) Task_FileDocument 报送备案")
    assert lines[removed + 1] == note
    assert runner.invoke(main, ["--db", url, "deploy", str(renamed), "--as", "chen"]).exit_code == 0
    lines = runner.invoke(main, ["--db", url, "changes", "--process", "filing", "--version", "2"]).stdout.splitlines()
    assert note in lines
    with demo_engine.db.reader() as s:
        assert _by_id(between_versions(s, "filing", 2))["Task_FileDocument"]["waiting"] == {"plans": 1, "versions": [1]}


def test_the_check_page_says_it(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", content_type="multipart/form-data", data={
        "action": "check", "files": [(io.BytesIO(RENAMED.encode()), "filing.bpmn")]}).get_data(as_text=True)
    row = re.search(r'<tr class="removed" data-element="Task_FileDocument".*?</tr>', page, re.S).group(0)
    assert "1 个进行中的方案正停在这一步，仍按第 1 版办完，不受新版本影响。" in row
