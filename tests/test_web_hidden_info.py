"""What a tooltip or a symbol says is also in the text a screen reader reads (WCAG 1.1.1, 1.3.1):
the last urge's time, 跟进日期 not being a deadline, what 只看即将到期 means, why a deadline is
暂定; 【！】 is heard as 需关注, not as punctuation."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from engine import clock, urging
from engine.bulletin import Quarter

from .web_helper import open_task, signed_in_client

HIDDEN = r'<span class="visually-hidden">([^<]*)</span>'


def test_the_inbox_says_in_words_what_its_tooltips_say(demo_engine):
    task = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    with clock.frozen(datetime(2026, 3, 2, 9, 30)):
        urging.urge(demo_engine, task["id"], actor="chen", note="请抓紧")
    page = signed_in_client(demo_engine, "chen").get("/tasks?scope=all").get_data(as_text=True)
    row = re.search(rf'<tr class="[^"]*" data-task="{task["id"]}">(.*?)</tr>', page, re.S).group(1)
    # each said right after the words it explains
    assert re.search(r'<strong class="late urged"[^>]*>催办 1 次</strong>' + HIDDEN.replace("([^<]*)", "（2026年3月2日 09:30）"), row)
    assert re.search(r"跟进 [^<]+</span>" + HIDDEN.replace("([^<]*)", "（跟进日期：不是办理期限）"), page)
    # one pair of brackets: not 「（5 个工作日内（至 …）到期）」
    assert re.search(r'只看即将到期</a><span class="visually-hidden">（5 个工作日内到期，截至 \d{4}年\d+月\d+日）</span>', page)
    english = signed_in_client(demo_engine, "chen", language="en").get("/tasks?scope=all").get_data(as_text=True)
    assert re.search(r'Due soon only</a><span class="visually-hidden"> \(Due within 5 working days, by \d{4}-\d\d-\d\d\)</span>',
                     english)


def test_a_provisional_deadline_says_why_in_words(demo_engine):
    from web import create_app
    app = create_app(engine=demo_engine, secret_key="test", testing=True)
    with app.test_request_context("/"):
        from flask import render_template_string
        said = render_template_string('{% from "_provisional.html" import provisional with context %}'
                                      '{{ provisional(t) }}', t={"due_provisional": True, "due_at": "2027-03-01"},
                                      language="zh")
    assert re.findall(HIDDEN, said) == ["（2027 年节假日安排尚未录入，此期限暂按法定节假日和周末计算，调休未录入，录入后将重新计算）"]


def test_the_bulletin_s_mark_is_heard_as_needing_attention(demo_engine):
    today = clock.today()
    quarter = Quarter(today.year, (today.month - 1) // 3 + 1)
    later = datetime.combine(quarter.last_day + timedelta(days=45), datetime.min.time()).replace(hour=10)
    with clock.frozen(later):  # signed in then too: weeks idle would have signed chen out
        client = signed_in_client(demo_engine, "chen")
        page = client.get(f"/bulletin?quarter={quarter.code}&all=1").get_data(as_text=True)
    marks = re.findall(r'<span class="attention"[^>]*>【！】</span>(<span class="visually-hidden">[^<]*</span>)?', page)
    assert marks and all(m == '<span class="visually-hidden">需关注</span>' for m in marks)
    assert all('aria-hidden="true"' in m for m in re.findall(r'<span class="attention"[^>]*>', page))
