"""On an English page the Chinese that comes from the data (a plan's title, a step's name, a
person's, a field's label and what was typed, the diagram's steps) is marked lang="zh-CN" (WCAG
3.1.2), so that a screen reader reads it in Chinese; a Chinese page needs no such marks."""
from __future__ import annotations

import re

from .web_helper import open_task, signed_in_client


def _pages(engine, language: str) -> dict[str, str]:
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    if review["status"] == "open":
        engine.claim(review["id"], actor="li")  # her form, with its labels
    client = signed_in_client(engine, "li")
    client.post(f"/language/{language}")
    paths = {"tasks": "/tasks?scope=all", "task": f"/tasks/{review['id']}",
             "plan": f"/plans/{review['instance_id']}", "diagram": f"/plans/{review['instance_id']}/diagram"}
    return {name: client.get(path).get_data(as_text=True) for name, path in paths.items()}


def test_chinese_data_on_english_pages_is_marked_as_chinese(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    pages = _pages(demo_engine, "en")
    assert 'lang="en"' in pages["task"].split(">", 2)[1]
    span = r'<span lang="zh-CN">{}</span>'
    assert re.search(r"<h1>" + span.format(re.escape(review["name"])), pages["task"])
    assert re.search(span.format(re.escape(review["plan_title"])), pages["task"])
    assert re.search(r'<label for="f-legalityOpinion">' + span.format("[^<]+"), pages["task"])
    assert re.search(r'<a href="/tasks/{}">'.format(review["id"]) + span.format(re.escape(review["name"])),
                     pages["tasks"])
    assert re.search(r"<h1>DT-2015-04 " + span.format(re.escape(review["plan_title"])), pages["plan"])
    assert re.search(r'<td data-label="Step">' + span.format("合法合规性审查") + "</td>", pages["diagram"])
    # English words are not marked
    assert '<span lang="zh-CN">Not submitted' not in pages["task"]


def test_chinese_pages_have_no_such_marks(demo_engine):
    for name, html in _pages(demo_engine, "zh").items():
        assert 'lang="zh-CN">' not in html.split("<html", 1)[1].split(">", 1)[1], name
