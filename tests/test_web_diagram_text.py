"""The 流程图's words for those who do not see the picture (WCAG 1.1.1, 1.3.1): besides each
activity and event, its gateways, and for each where its flows lead (之后), with the condition
written on the flow and 已走 where the plan went; the picture is named in the page's language
and described by that table."""
from __future__ import annotations

import re

from .web_helper import open_task, signed_in_client


def _row(html: str, element_id: str) -> str:
    row = re.search(rf'<tr data-element-id="{element_id}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def _next(html: str, element_id: str) -> list[str]:
    row = re.search(rf'<tr data-element-id="{element_id}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip()
            for li in re.findall(r"<li[^>]*>(.*?)</li>", row, re.S)]


def test_the_steps_table_has_gateways_and_where_each_flow_leads_and_which_were_taken(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    html = signed_in_client(demo_engine, "chen").get(f"/plans/{review['instance_id']}/diagram").get_data(as_text=True)
    assert "<th>之后</th>" in html
    html = html.split('data-process="legality_review"', 1)[1]  # the called review's diagram
    assert _row(html, "Gateway_MaterialsComplete").startswith("材料齐全？ 排他网关 已办")
    assert _next(html, "Gateway_MaterialsComplete") == [
        "审查期限起算（材料齐全） 已走", "核对送审材料（不齐全但未列明缺少的材料）", "补充送审材料（不齐全，退回补充）"]
    assert _next(html, "Task_CheckMaterials") == ["材料齐全？ 已走"]
    assert _next(html, "Gateway_LegalityResult") == ["审查通过（通过）", "修改后通过（修改后通过）", "审查不通过，退回修改（不通过）"]
    # the picture: its name says what it is; its description is the table
    html = signed_in_client(demo_engine, "chen").get(f"/plans/{review['instance_id']}/diagram").get_data(as_text=True)
    for svg in re.findall(r"<svg\b[^>]*>", html):
        described = re.search(r'aria-describedby="([^"]+)"', svg).group(1)
        assert f'<table class="inbox cards" id="{described}">' in html
    assert re.search(r'<svg\b[^>]*aria-label="改革方案全流程 v1 的流程图"', html)


def test_the_picture_is_named_in_english_on_an_english_page(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    client = signed_in_client(demo_engine, "chen")
    client.post("/language/en")
    html = client.get(f"/plans/{review['instance_id']}/diagram").get_data(as_text=True)
    assert re.search(r'<svg\b[^>]*aria-label="diagram of 改革方案全流程 v1"', html)
    assert "<th>Next</th>" in html and " taken</strong>" not in html and "<strong>taken</strong>" in html
