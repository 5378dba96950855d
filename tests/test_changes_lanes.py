"""A lane whose members changed is said as what joined it (+) and what left it (−), in `reformflow
changes` and on the pages, not as its whole membership before and after."""
from __future__ import annotations

import io
import re

from click.testing import CliRunner

from engine.cli import main
from engine.diagram_changes import compare

from .conftest import ROOT
from .web_helper import signed_in_client

FILING = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8")
SUPPLEMENT = "        <bpmn:flowNodeRef>Task_SupplementFiling</bpmn:flowNodeRef>\n"
# Task_SupplementFiling moves from the drafter's lane to the office's
MOVED = FILING.replace(SUPPLEMENT, "", 1).replace(
    "        <bpmn:flowNodeRef>Event_FilingRegistered</bpmn:flowNodeRef>\n",
    "        <bpmn:flowNodeRef>Event_FilingRegistered</bpmn:flowNodeRef>\n" + SUPPLEMENT, 1)


def _members(result: dict, lane: str) -> dict:
    [change] = [c for c in result["changes"] if c["element_id"] == lane]
    [detail] = [d for d in change["details"] if d["aspect"] == "members"]
    return detail


def test_a_lane_says_what_joined_and_what_left_it():
    result = compare(FILING, MOVED, "filing")
    drafter, office = _members(result, "Lane_Drafter"), _members(result, "Lane_ReformOffice")
    assert (drafter["added"], drafter["removed"]) == ([], ["Task_SupplementFiling"])
    assert (office["added"], office["removed"]) == (["Task_SupplementFiling"], [])
    assert "Event_FilingStart" in drafter["old"]  # --json keeps both whole lists


def test_reformflow_changes_prints_only_the_difference(tmp_path, sqlite_engine):
    url = str(sqlite_engine.db.url)
    runner = CliRunner()
    assert runner.invoke(main, ["--db", url, "deploy", str(ROOT / "bpmn" / "filing.bpmn")]).exit_code == 0
    moved = tmp_path / "filing.bpmn"
    moved.write_text(MOVED, encoding="utf-8")
    lines = runner.invoke(main, ["--db", url, "changes", str(moved)]).stdout.splitlines()
    drafter = lines.index("  修改 (changed) 泳道 (lane) Lane_Drafter 牵头单位（起草人）")
    assert lines[drafter + 1] == "    泳道中的元素 (lane members)：− Task_SupplementFiling"
    office = lines.index("  修改 (changed) 泳道 (lane) Lane_ReformOffice 改革办")
    assert lines[office + 1] == "    泳道中的元素 (lane members)：+ Task_SupplementFiling"


def test_the_check_page_shows_only_the_difference(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", content_type="multipart/form-data", data={
        "action": "check", "files": [(io.BytesIO(MOVED.encode()), "filing.bpmn")]}).get_data(as_text=True)
    row = re.search(r'<tr class="changed" data-element="Lane_Drafter".*?</tr>', page, re.S).group(0)
    assert re.search(r"<del[^>]*>− Task_SupplementFiling</del>", row)
    assert "Event_FilingStart" not in row and "→" not in row
