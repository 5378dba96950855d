"""The Chinese pages speak Chinese: a process by its name and 第 N 版 (not its key and v1), a
trail line without the diagram's codes, dates as a person here writes them; the English pages
keep v1 and ISO dates."""
from __future__ import annotations

import re



from .web_helper import page_text, plan_id, signed_in_client


def _client(engine, username: str, language: str = "zh"):
    return signed_in_client(engine, username, language=language)


def test_a_process_is_named_with_its_version_in_chinese_and_v1_in_english(demo_engine):
    plan = plan_id(demo_engine, "DT-2015-02")
    page = page_text(_client(demo_engine, "chen").get(f"/plans/{plan}"))
    assert "流程 改革方案全流程 第 1 版" in page and " v1" not in page
    assert "发起方案「改革方案全流程」（第 1 版）" in page and "reform_plan" not in page
    assert "Process 改革方案全流程 v1" in page_text(_client(demo_engine, "chen", "en").get(f"/plans/{plan}"))
    listed = page_text(_client(demo_engine, "chen").get("/plans/new"))
    assert "改革方案全流程 第 1 版" in listed and "reform_plan v1" not in listed and "implementation" not in listed
    started = page_text(_client(demo_engine, "chen").get("/plans/new?key=reform_plan"))
    assert "发起方案 改革方案全流程 第 1 版" in started


def test_moving_plans_to_a_new_version_names_the_process(demo_engine):
    page = page_text(_client(demo_engine, "chen").get("/definitions/reform_plan/migrate"))
    assert "「改革方案全流程」：仍按旧版本办理的进行中方案，迁移到第 1 版。" in page


def test_dates_are_written_as_a_chinese_reader_writes_them_and_iso_in_english(demo_engine):
    plan = plan_id(demo_engine, "DT-2015-02")
    chinese = page_text(_client(demo_engine, "chen").get(f"/plans/{plan}"))
    english = page_text(_client(demo_engine, "chen", "en").get(f"/plans/{plan}"))
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d", chinese)
    assert not re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", chinese)
    assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", english) and "年" not in re.sub(r"[\u3400-\u9fff]年", "", english)
    archive = page_text(_client(demo_engine, "chen").get(f"/plans/{plan}/archive"))
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d", archive)
    bulletin = _client(demo_engine, "chen").get("/bulletin").get_data(as_text=True)
    assert re.search(r'<option value="20\d\dQ[1-4]"[^>]*>20\d\d年第[一二三四]季度</option>', bulletin)
    assert re.search(r'<option value="20\d\dQ[1-4]"[^>]*>20\d\dQ[1-4]</option>',
                     _client(demo_engine, "chen", "en").get("/bulletin").get_data(as_text=True))


def test_a_name_inside_a_chinese_sentence_has_no_spaces_around_it(demo_engine):
    page = page_text(_client(demo_engine, "chen").get("/people/feng/deactivate"))
    assert "停用后，冯敏（feng）不能再登录或办理" in page and "确定停用冯敏（feng）吗？" in page
    ledger = page_text(_client(demo_engine, "chen").get("/ledger"))
    assert " 时间节点 " in ledger and " 节点 " not in ledger


def test_moving_a_plan_already_on_the_latest_version_says_what_to_do(demo_engine):
    from engine.errors import Invalid
    plan = plan_id(demo_engine, "DT-2015-02")
    try:
        demo_engine.migrate_plan(plan, actor="chen", reason="x")
    except Invalid as refused:
        said = refused.message
    assert said.startswith("方案按「改革方案全流程」第 1 版办理，已是最新版本，无需迁移。如需按新版本办理，请先部署新版本。 (")
