"""The English pages say things in English: the right word for a button, ASCII punctuation and
brackets around the page's own words (the Chinese pages keep theirs), plurals that agree with
their count, sentences that start with a capital, wording for whoever's page it is, and a form's
required field named by its label, not its internal id."""
from __future__ import annotations

import html as markup
import re
from datetime import datetime, timedelta

import pytest

from engine import clock
from engine.bulletin import last_ended
from engine.queries import list_tasks

from .web_helper import open_task, page_text, plan_id, signed_in_client


def _client(engine, username: str, language: str = "en"):
    return signed_in_client(engine, username, language=language)


def test_the_start_button_says_start(demo_engine):
    page = _client(demo_engine, "chen").get("/plans/new?key=reform_plan").get_data(as_text=True)
    assert re.search(r'<button class="primary">\s*Start\s*</button>', page)
    assert "Started</button>" not in page
    # the plan's page keeps "Started" for who started it and when
    assert "<dt>Started</dt>" in _client(demo_engine, "chen").get(f"/plans/{plan_id(demo_engine, 'DT-2015-02')}").get_data(as_text=True)
    chinese = _client(demo_engine, "chen", "zh").get("/plans/new?key=reform_plan").get_data(as_text=True)
    assert re.search(r'<button class="primary">\s*发起\s*</button>', chinese)


def _legality_review_failed_without_a_reason(engine, language: str) -> str:
    with engine.db.reader() as s:
        task = next(t for t in list_tasks(s, "li", "all") if t["element_id"] == "Task_LegalityReview")
    version = engine.claim(task["id"], actor="li")["version"]
    client = _client(engine, "li", language)
    answer = client.post(f"/tasks/{task['id']}/complete", data={
        "version": version, "legalityResult": "fail", "legalityOpinion": "缺少上位法依据", "returnReason": ""})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    field = re.search(r'data-field="returnReason">(.*?)</div>', html, re.S).group(1)
    return " ".join(markup.unescape(p) for p in re.findall(r'<p class="problem"[^>]*>(.*?)</p>', field, re.S))


def test_a_field_required_by_a_choice_is_named_by_its_label_in_english(demo_engine):
    said = _legality_review_failed_without_a_reason(demo_engine, "en")
    assert said == "Fill in “退回理由（不通过时必填）” when “审查结论” is “不通过”"
    assert "returnReason" not in said and "legalityResult" not in said and "'fail'" not in said


def test_a_field_required_by_a_choice_is_named_without_its_id_in_chinese(demo_engine):
    said = _legality_review_failed_without_a_reason(demo_engine, "zh")
    assert said == "审查结论为「不通过」时须填写「退回理由（不通过时必填）」"  # once, not 必填…为必填项


def _quarter_with_a_table(engine) -> str:
    """The latest ended quarter whose last monthly table is in, as the office picks it: from the 1st
    of a quarter's first month to the day its tables are filed, the one just ended has none yet."""
    quarter = last_ended(clock.today())
    while not any(row["table"] for row in engine.bulletin(quarter.code)["plans"]):
        quarter = last_ended(quarter.first_day)
    return quarter.code


def test_english_pages_use_ascii_punctuation_around_their_own_words(demo_engine):
    client = _client(demo_engine, "chen")
    ledger, bulletin, supervision = (page_text(client.get(p)) for p in (
        "/ledger", f"/bulletin?quarter={_quarter_with_a_table(demo_engine)}", "/supervision"))
    for page in (ledger, bulletin, supervision):
        assert "Download this table: " in page and "Download this table：" not in page
    assert re.search(r"\d{4}-\d\d table: Due ", bulletin)
    assert "Progress: " in bulletin and "Progress：" not in bulletin
    assert "【！】" not in bulletin and "[!]" in bulletin
    assert re.search(r"1 plan, 0 needing attention: ", bulletin)
    assert re.search(r"\(Unclaimed: 改革办\)", ledger) and "（" + "Unclaimed" not in ledger
    assert "Problems: " in supervision and "Problems：" not in supervision
    # the header names the one signed in with ASCII brackets; Chinese keeps its own
    assert "陈静 (chen)" in ledger
    assert "陈静（chen）" in page_text(_client(demo_engine, "chen", "zh").get("/ledger"))


def test_the_last_sign_in_and_a_stop_reason_are_punctuated_in_english(demo_engine):
    client = _client(demo_engine, "chen")
    song = signed_in_client(demo_engine, "song")  # a sign-in for song's page to show
    assert song.get("/tasks").status_code == 200
    page = page_text(client.get("/people/song"))
    assert re.search(r"Last sign-in \d{4}-\d\d-\d\d \d\d:\d\d \(127\.0\.0\.1\)", page), page
    stop = page_text(client.post(f"/plans/{plan_id(demo_engine, 'DT-2015-02')}/stop", data={"reason": "情况变化"}))
    assert "Reason for stopping: 情况变化" in stop
    chinese = page_text(_client(demo_engine, "chen", "zh").post(f"/plans/{plan_id(demo_engine, 'DT-2015-02')}/stop",
                                                            data={"reason": "情况变化"}))
    assert re.search(r"终止理由：\s*情况变化", chinese)


def test_counts_agree_with_their_nouns(demo_engine):
    client = _client(demo_engine, "chen")
    bulletin, supervision = page_text(client.get("/bulletin")), page_text(client.get("/supervision"))
    assert "1 plan," in bulletin and "1 plans" not in bulletin
    assert "1 plans" not in supervision
    assert re.search(r"\b1 rectification notice:", supervision) or not re.search(r"\b1 rectification notices", supervision)
    stopped = client.post(f"/plans/{plan_id(demo_engine, 'DT-2015-02')}/stop", data={"reason": "情况变化", "confirm": "1"},
                          follow_redirects=True)
    assert re.search(r"stopped; 1 open task withdrawn\.", page_text(stopped))
    # someone holding nothing: no "The 0 tasks they hold"
    deactivate = page_text(client.get("/people/feng/deactivate"))
    assert "They hold no tasks." in deactivate and "The 0 tasks" not in deactivate
    # the overview and the ledger say a step's lateness the same way
    overview, ledger = page_text(client.get("/overview")), page_text(client.get("/ledger"))
    assert "day(s)" not in overview
    late = re.findall(r"\b\d+ days? overdue\b", overview)
    assert late and all(re.search(rf"\b{re.escape(x)}\b", ledger) for x in late)
    assert re.search(r"\d+ overdue · \d+ due soon", overview)
    assert not re.search(r"\b1 (plans|rectifications|steps)\b", overview)


def test_sentences_and_labels_start_with_a_capital(demo_engine):
    client = _client(demo_engine, "chen")
    # the year-end round's first reminder, fired when it falls due (the demo's overdue filing
    # opened already late: a reminder of a deadline past is not sent)
    rounds = next(p for p in demo_engine.ledger(process="work_report") if p["business_key"].endswith("-NB"))
    due = datetime.fromisoformat(demo_engine.instance(rounds["id"])["next_timer_at"])
    with clock.frozen(due + timedelta(hours=1)):
        demo_engine.fire_due_timers()
    with demo_engine.db.reader() as s:
        reminded = next(t for t in list_tasks(s, "chen", "all") if t["reminded_at"])
    task = client.get(f"/tasks/{reminded['id']}").get_data(as_text=True)
    assert "<dt>Reminded</dt>" in task
    archive = client.get(f"/plans/{plan_id(demo_engine, 'DT-2015-08')}/archive").get_data(as_text=True)
    headings = re.findall(r"<h2>(.*?)</h2>", archive)
    assert "Public participation" in headings and "Other records" in headings
    assert all(not h[:1].islower() for h in headings), headings
    # an engine refusal shown as a sentence at the top of the page
    refused = client.post("/people/song/delegation", data={"delegate": "wang", "starts_on": "2027-01-08",
                                                          "ends_on": "2027-01-04", "reason": "出差"},
                          follow_redirects=True)
    flashes = re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', refused.get_data(as_text=True), re.S)
    assert flashes and all(not f.strip()[:1].islower() for f in flashes), flashes


def test_another_persons_page_is_not_worded_for_me(demo_engine):
    client = _client(demo_engine, "chen")
    song = page_text(client.get("/people/song"))
    assert "digest of my open steps" not in song and "acts for you" not in song
    assert "Mail them a digest of their open steps each working morning" in song
    assert "Delegate (the colleague who acts for them)" in song
    own = page_text(client.get("/account/delegation"))
    assert "Delegate (the colleague who acts for you)" in own


def test_the_plan_page_heads_its_comments_comments(demo_engine):
    page = _client(demo_engine, "chen").get(f"/plans/{plan_id(demo_engine, 'DT-2015-02')}").get_data(as_text=True)
    assert re.search(r'<section class="comments" id="comments"><h2>Comments</h2>', page)
    assert re.search(r"<button>\s*Comment\s*</button>", page)


def test_the_urge_box_in_english_says_what_an_empty_note_sends(demo_engine):
    client = _client(demo_engine, "chen")
    with demo_engine.db.reader() as s:
        held = next(t for t in list_tasks(s, "zhang", "mine") if t["element_id"] == "Task_PublicConsultation")
    page = client.get(f"/tasks/{held['id']}").get_data(as_text=True)
    box = re.search(r'<section class="urge">.*?</section>', page, re.S).group(0)
    assert "Note to the holder" in box and "What you expect" not in box
    assert re.search(r'placeholder="If left empty: 请抓紧办理。', box)
    listing = client.get("/tasks?scope=all").get_data(as_text=True)
    assert re.search(r'id="urge-picked-note"[^>]*placeholder="If left empty: 请抓紧办理。', listing)


def test_a_bulk_urge_says_how_many_it_left_out_as_urged_just_now(demo_engine):
    for language, urged, again in (("en", "Urged 1 task.", "1 more task was not urged again: it was urged with the "
                                                             "same note less than a minute ago."),
                                   ("zh", "已催办 1 项待办。", "另有 1 项不久前已用同样的说明催办过，没有重复催办。")):
        client = _client(demo_engine, "chen", language)
        with demo_engine.db.reader() as s:
            open_ids = [t["id"] for t in list_tasks(s, "chen", "all") if t["status"] in ("open", "claimed")]
        first, second = open_ids[0], open_ids[1] if language == "en" else open_ids[2]
        note = f"note {language}"
        client.post("/tasks/urge", data={"task": [first], "note": note})
        answer = client.post("/tasks/urge", data={"task": [first, second], "note": note}, follow_redirects=True)
        page = page_text(answer)
        assert urged in page and again in page, page[:600]


def _attributes(page: str, tag: str, **having) -> list[dict]:
    """The attributes of each `tag` whose attributes include `having`, as a browser reads them."""
    from html.parser import HTMLParser
    found = []

    class Reader(HTMLParser):
        def handle_starttag(self, name, attrs):
            attrs = dict(attrs)
            if name == tag and all(attrs.get(k) == v for k, v in having.items()):
                found.append(attrs)
    Reader().feed(page)
    return found


def test_a_quoted_name_in_an_english_label_keeps_the_attribute_whole(demo_engine):
    """The office's tick boxes (Pick task 3 “…”): the name is in the label, and nothing after it
    spills out of the attribute; a token's revoke button says its name, quotes escaped."""
    client = _client(demo_engine, "chen")
    page = client.get("/tasks?scope=all").get_data(as_text=True)
    boxes = _attributes(page, "input", name="task", form="urge-picked")
    assert boxes, "the office ticks tasks to urge"
    with demo_engine.db.reader() as s:
        names = {t["id"]: t["name"] for t in list_tasks(s, "chen", "all")}
    for box in boxes:
        assert set(box) == {"type", "name", "value", "form", "aria-label"}
        assert box["aria-label"].startswith(f"Pick task {box['value']} “{names[int(box['value'])]}")
        assert box["aria-label"].endswith("”")
    demo_engine.create_token("chen", 'OA "旧"')  # its revoke button names it in hidden text, escaped
    page = client.get("/account/tokens").get_data(as_text=True)
    assert re.search(r'<button>[^<]+<span class="visually-hidden"> OA (&#34;|&quot;)旧(&#34;|&quot;)</span></button>', page), \
        re.findall(r"<button>.*?</button>", page)


def test_a_translated_text_is_escaped_like_any_other(demo_engine):
    """Jinja's i18n marks a translation safe as it is: a quote in it ended the attribute it stood in."""
    app = _client(demo_engine, "chen").application
    with app.test_request_context("/"):
        rendered = app.jinja_env.from_string('<b title="{{ _(\'a "b" <c>\') }}">').render()
    assert rendered == '<b title="a &#34;b&#34; &lt;c&gt;">'


def _imported(client, text: str) -> str:
    import io
    return page_text(client.post("/calendar/2027/import", data={"schedule": (io.BytesIO(text.encode()), "2027.csv")},
                             content_type="multipart/form-data"))


@pytest.mark.parametrize("text, said", [
    ("2027-01-01,放假,元旦\n", "The first line must be the heading, with the columns “日期” and “安排”, or “day” and "
                               "“kind”; “说明” or “note” is optional; it is: “2027-01-01,放假,元旦”"),
    ("日期,安排,说明\n2027-01-01,调休,\n", "The calendar file has 1 error; nothing was entered: line 2: the kind “调休” must "
                                       "be “放假” (off) or “上班” (working)"),
    ("日期,安排,说明\n2027年2月30日,放假,\n2027-01-01,调休,\n",
     "The calendar file has 2 errors; nothing was entered: line 2: “2027年2月30日” is not a day"),
])
def test_a_calendar_file_refused_is_told_in_english(demo_engine, text, said):
    """The column names and what the file said stay as written, quoted; the rest in English alone."""
    page = _imported(_client(demo_engine, "chen"), text)
    assert said in page
    assert "日历文件" not in page and "第一行" not in page and "第 2 行" not in page


def _bad(element: bytes) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
            b'20100524/MODEL" targetNamespace="x"' + (b' bogus="1"' if not element else b' id="d"') + b'>\n'
            b'<bpmn:process id="p" isExecutable="true">' + (element or b'<bpmn:startEvent id="s"/>')
            + b'</bpmn:process></bpmn:definitions>')


def _checked(client, name: str, content: bytes) -> str:
    import io
    return page_text(client.post("/definitions/deploy", data={"files": (io.BytesIO(content), name)},
                             content_type="multipart/form-data"))


def test_a_file_the_engine_cannot_read_is_told_in_each_language(demo_engine):
    """The schema's reason (English) is in the Chinese too, as the reason; the English names the
    element (its name quoted) or, when there is none, only the line, with one full stop."""
    named = _bad('<bpmn:startEvent id="s" name="开始" bogus="1"/>'.encode())
    reason = "Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}%s', attribute 'bogus': The attribute 'bogus' is not allowed"
    english = _checked(_client(demo_engine, "chen"), "named.bpmn", named)
    assert f"element s “开始”, line 3: {reason % 'startEvent'}. " in english
    assert "不符合 BPMN 规范" not in english
    chinese = _checked(_client(demo_engine, "chen", "zh"), "named.bpmn", named)
    assert f"元素 s（开始），第 3 行：不符合 BPMN 规范，引擎无法读取。原因（英文）：{reason % 'startEvent'}。请在 Modeler 中改正此元素。" \
        in chinese
    assert "请按括号中的原因" not in chinese and "element s" not in chinese

    english = _checked(_client(demo_engine, "chen"), "no_id.bpmn", _bad(None))
    assert f"line 2: {reason % 'definitions'}. " in english
    assert "element ?" not in english and ".." not in english
    chinese = _checked(_client(demo_engine, "chen", "zh"), "no_id.bpmn", _bad(None))
    assert f"第 2 行：不符合 BPMN 规范，引擎无法读取。原因（英文）：{reason % 'definitions'}。请在 Modeler 中改正此元素。" in chinese


def test_a_task_nobody_holds_is_unclaimed_and_a_withdrawn_one_withdrawn(demo_engine):
    """待认领 is "Unclaimed" (在办 is "Open"), 已撤销 "Withdrawn"."""
    client = _client(demo_engine, "chen")
    with demo_engine.db.reader() as s:
        task = next(t for t in list_tasks(s, "chen", "all") if t["status"] == "open")
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert re.search(r'<small class="status open">Unclaimed</small>', page)
    legend = page_text(client.get(f"/plans/{task['instance_id']}/diagram"))
    assert "Withdrawn" in legend and "Cancelled" not in legend


def test_a_check_and_a_refused_form_count_their_errors_in_english(demo_engine):
    client = _client(demo_engine, "chen")
    checked = _checked(client, "no_id.bpmn", _bad(None))
    assert re.search(r"Check results no_id.bpmn [2-9]\d* errors, 1 warning File", checked)  # the Modeler's too
    assert "(s)" not in checked
    with demo_engine.db.reader() as s:
        task = next(t for t in list_tasks(s, "li", "all") if t["element_id"] == "Task_LegalityReview")
    version = demo_engine.claim(task["id"], actor="li")["version"]
    answer = _client(demo_engine, "li").post(f"/tasks/{task['id']}/complete", data={
        "version": version, "legalityResult": "fail", "legalityOpinion": "缺少上位法依据", "returnReason": ""})
    assert "Not submitted: 1 item on the form needs changing." in page_text(answer)


def _flashed(answer) -> list[str]:
    page = answer.get_data(as_text=True)
    return [re.sub(r"\s+", " ", markup.unescape(re.sub(r"<[^>]+>", "", m))).strip()
            for m in re.findall(r'<p class="flash [^"]*" role="[^"]*">(.*?)</p>', page, re.S)]


def test_an_english_refusal_names_what_it_is_about_and_ends_its_sentence(demo_engine):
    import io
    client = _client(demo_engine, "chen")
    answer = client.post("/definitions/deploy", data={"files": (io.BytesIO(b"x"), "bad.txt")},
                         content_type="multipart/form-data")
    assert _flashed(answer) == ["“bad.txt”: only .bpmn files are accepted."]
    assert _flashed(client.post("/tasks/urge", data={"note": "x"}, follow_redirects=True)) == ["Choose the steps to urge."]
    plan = plan_id(demo_engine, "DT-2015-02")
    answer = client.post(f"/plans/{plan}/comments", data={"comment": ""}, follow_redirects=True)
    assert "The comment is empty: write something." in _flashed(answer)
    with demo_engine.db.reader() as s:
        held = next(t for t in list_tasks(s, "chen", "all") if t["status"] == "claimed" and t["assignee"] != "chen")
    answer = client.post(f"/tasks/{held['id']}/complete", data={"version": held["version"]}, follow_redirects=True)
    assert f"Task {held['id']} is held by {held['assignee']}: only the assignee may complete it." in _flashed(answer)


def test_english_summaries_put_the_count_first(demo_engine):
    client = _client(demo_engine, "chen")
    stats = page_text(client.get("/stats"))
    assert re.search(r"\d+ steps?; \d+ completions, \d+ late; \d+ open, \d+ overdue", stats), stats[:300]
    bulletin = page_text(client.get("/bulletin"))
    assert re.search(r"1 plan, 0 needing attention: 1 [a-z]", bulletin)


def test_the_task_and_plan_pages_in_english_quote_step_names_and_count_in_english(demo_engine):
    """The materials table names a step in English quotes, its heading reads as a phrase, and the
    trail counts a draft's fields in English (1 field, 2 fields: not "1 field(s)")."""
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    claimed = demo_engine.claim(review["id"], actor="li")
    li = _client(demo_engine, "li")
    page = page_text(li.get(f"/tasks/{review['id']}"))
    assert "Materials under review — what the plan says, its review, and the five statutory procedures: where each " \
           "stands and its key entries" in page
    assert re.search(r"“ ?核对送审材料是否齐全 ?” · 李娜", page) and "「" not in page.split("Materials under review")[1][:2000]
    demo_engine.save_draft(claimed["id"], {"legalityOpinion": "尚在核对"}, actor="li")
    trail = page_text(li.get(f"/plans/{review['instance_id']}"))
    assert "(1 field filled)" in trail and "field(s)" not in trail
    demo_engine.save_draft(claimed["id"], {"legalityOpinion": "尚在核对", "legalityResult": "pass"}, actor="li")
    assert "(2 fields filled)" in page_text(li.get(f"/plans/{review['instance_id']}"))
    chinese = page_text(_client(demo_engine, "li", "zh").get(f"/tasks/{review['id']}"))
    assert re.search(r"「 ?核对送审材料是否齐全 ?」 · 李娜", chinese)  # the Chinese page keeps its own


def test_an_english_page_names_a_group_by_its_chinese_name_and_its_code(demo_engine):
    """Groups have a Chinese name only: an English page said 「Unclaimed: 法制机构」 with nothing an
    English reader could go by; the code is that, as a person's username is."""
    with demo_engine.db.reader() as s:
        open_step = next(t for t in list_tasks(s, "chen", "all")
                         if t["status"] == "open" and t["candidate_groups"] == ["legal"])
    english = page_text(_client(demo_engine, "chen").get(f"/tasks/{open_step['id']}"))
    chinese = page_text(_client(demo_engine, "chen", "zh").get(f"/tasks/{open_step['id']}"))
    assert "法制机构 (legal)" in english
    assert "法制机构" in chinese and "(legal)" not in chinese and "（legal）" not in chinese
