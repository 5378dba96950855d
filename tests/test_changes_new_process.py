"""A process not deployed yet: `changes` and the check page say it becomes version 1 and list
what it holds (each step, event, gateway, flow and lane, as added), not only that it is new."""
from __future__ import annotations

import io
import re

from click.testing import CliRunner

from engine.cli import main

from .conftest import ROOT
from .web_helper import signed_in_client

NEW = (ROOT / "bpmn" / "filing.bpmn").read_text(encoding="utf-8").replace('id="filing"', 'id="filing_two"')


def test_reformflow_changes_lists_the_steps_of_a_new_process(tmp_path, sqlite_engine):
    new = tmp_path / "filing_two.bpmn"
    new.write_text(NEW, encoding="utf-8")
    lines = CliRunner().invoke(main, ["--db", str(sqlite_engine.db.url), "changes", str(new)]).stdout.splitlines()
    assert re.fullmatch(rf"filing_two（{new}）：尚未部署，部署后为第 1 版，有以下 (\d+) 个元素 "
                        r"\(not deployed yet: it becomes version 1, with these \1 elements\)", lines[0])
    assert "  新增 (added) 用户任务 (user task) Task_FileDocument 报送备案" in lines
    assert "    候选组 (candidate groups)：drafter" in lines
    assert "  新增 (added) 泳道 (lane) Lane_ReformOffice 改革办" in lines


def test_the_check_page_lists_the_steps_of_a_new_process(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", content_type="multipart/form-data", data={
        "action": "check", "files": [(io.BytesIO(NEW.encode()), "filing_two.bpmn")]}).get_data(as_text=True)
    section = re.search(r'<section class="process-changes" data-process="filing_two">.*?</section>', page, re.S).group(0)
    assert "尚未部署过的新流程，部署后为第 1 版。" in section and re.search(r"<small>\d+ 个元素</small>", section)
    row = re.search(r'<tr class="added" data-element="Task_FileDocument".*?</tr>', section, re.S).group(0)
    assert "用户任务 报送备案" in row
