"""The JSON API (and the command line) given what a fuzzer sends (the API audit): a lone UTF-16
surrogate in any text, digits that are not ASCII in a query, ids past what a column holds in a
body or an address, a body that is a form, a file name that is not UTF-8. Each is a refusal
saying what to change (422) or the not-found answer (404), never a 500; and every answer that
embeds a task gives its form typed, as GET /tasks/{id} does."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine.audit import verify
from engine.cli import main
from models.base import INTEGER_MAX

from .conftest import FIXTURES, read
from .test_api import _auth, _client
from .web_helper import signed_in_client

HALF = "a\\ud800b"  # as JSON writes a lone surrogate: valid JSON, no UTF-8 text
NOT_FOUND = "找不到：它不存在，或您无权查看"


@pytest.fixture
def mini(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    return engine


def _started(engine, client, headers) -> tuple[dict, dict]:
    """A plan started by zhang through the API, and its first step (zhang's, open)."""
    plan = client.post("/api/v1/plans", headers=headers, json={"key": "mini_approval"}).get_json()
    step = client.get("/api/v1/tasks?scope=mine", headers=headers).get_json()["tasks"][0]
    return plan, step


def _raw(client, method: str, path: str, headers: dict, body: str):
    return client.open(path, method=method, headers={**headers, "Content-Type": "application/json"}, data=body)


def test_a_lone_surrogate_anywhere_in_a_body_is_refused_naming_its_field_and_the_character(mini):
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    chen = _auth(mini.create_token("chen", "OA")["secret"])
    plan, step = _started(mini, client, zhang)
    task, plan_id = step["id"], plan["id"]
    cases = [  # each gave a 500: the engine, the database or the trail's digest could not encode it
        (chen, "POST", f"/api/v1/tasks/{task}/urge", '{"note": "%s"}' % HALF, "note"),
        (chen, "POST", "/api/v1/tasks/urge", '{"task_ids": [%d], "note": "%s"}' % (task, HALF), "note"),
        (chen, "POST", f"/api/v1/tasks/{task}/assign", '{"to": "%s"}' % HALF, "to"),
        (chen, "POST", f"/api/v1/plans/{plan_id}/stop", '{"reason": "%s"}' % HALF, "reason"),
        (zhang, "POST", "/api/v1/plans", '{"key": "mini_approval", "business_key": "%s"}' % HALF, "business_key"),
        (zhang, "POST", "/api/v1/plans", '{"key": "%s"}' % HALF, "key"),
        (zhang, "POST", "/api/v1/plans", '{"key": "mini_approval", "data": {"summary": "%s"}}' % HALF, "data.summary"),
        (zhang, "PUT", f"/api/v1/tasks/{task}/draft", '{"comment": "%s"}' % HALF, "comment"),
        (zhang, "PUT", f"/api/v1/tasks/{task}/draft", '{"values": {"%s": "x"}}' % HALF, "values.a\\ud800b"),
        (zhang, "POST", f"/api/v1/tasks/{task}/complete", '{"version": 1, "data": {"summary": "%s"}}' % HALF,
         "data.summary"),
        (zhang, "POST", f"/api/v1/tasks/{task}/claim", '{"version": "%s"}' % HALF, "version"),
    ]
    for headers, method, path, body, field in cases:
        refused = _raw(client, method, path, headers, body)
        assert refused.status_code == 422, (path, body, refused.get_json())
        assert refused.get_json()["message"] == \
            f"{field} 含有无效字符（U+D800：单独的 UTF-16 代理项，或不是 UTF-8 编码的字节），请删去后重试", (path, body)
    english = _raw(client, "POST", f"/api/v1/tasks/{task}/urge?lang=en", chen, '{"note": "%s"}' % HALF).get_json()
    assert english["message"] == ("note has an invalid character, U+D800: a lone UTF-16 surrogate, or a byte that "
                                  "is not UTF-8: remove it and try again")
    # nothing was done: the plan runs, nobody urged, one plan only
    shown = client.get(f"/api/v1/plans/{plan_id}", headers=chen).get_json()
    assert shown["status"] == "running" and [t["id"] for t in shown["tasks"]] == [task]
    assert client.get(f"/api/v1/tasks/{task}", headers=chen).get_json()["urged"] is None
    assert client.get("/api/v1/plans", headers=zhang).get_json()["total"] == 1
    with mini.db.reader() as s:
        assert verify(s).ok


def test_the_command_line_refuses_a_lone_surrogate_naming_its_option(mini):
    """A byte that is not UTF-8 on a command line arrives as one (U+DCFF), "\\ud800" in --data too:
    a refusal saying which option, not a traceback."""
    db = ["--db", mini.db.url]
    run = CliRunner().invoke
    started = run(main, [*db, "start", "mini_approval", "--as", "zhang", "--data", '{"summary": "%s"}' % HALF])
    assert started.exit_code == 3, started.output
    assert "--data.summary 含有无效字符（U+D800" in started.output
    _, step = _started(mini, _client(mini), _auth(mini.create_token("zhang", "OA")["secret"]))
    urged = run(main, [*db, "urge", str(step["id"]), "--as", "chen", "--note", "a\udcffb"])
    assert urged.exit_code == 3 and "--note 含有无效字符（U+DCFF" in urged.output, urged.output
    who = run(main, [*db, "tasks", "--as", "a\udcffb"])
    assert who.exit_code == 3 and "--as 含有无效字符（U+DCFF" in who.output, who.output


def test_a_whole_number_in_a_query_is_in_ascii_digits_and_its_refusal_names_it(mini):
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    plan, _ = _started(mini, client, zhang)
    for path in ("/api/v1/tasks?limit=²", "/api/v1/tasks?offset=①", "/api/v1/plans?page=٣", "/api/v1/events?after=²",
                 f"/api/v1/plans/{plan['id']}/history?after=①", f"/api/v1/plans/{plan['id']}/comments?after=٣"):
        refused = client.get(path, headers=zhang)  # ² and ① were a 500, ٣ was read as 3
        assert refused.status_code == 422, (path, refused.get_json())
        name = path.split("?")[1].split("=")[0]
        assert refused.get_json()["message"].startswith(f"{name} 须为 "), refused.get_json()
    english = client.get("/api/v1/tasks?limit=0&lang=en", headers=zhang).get_json()
    assert english["message"] == "limit must be a whole number from 1 to 200"
    # the pages answer such a value as any other that is not a number
    mini.set_password("chen", "Odd-input-2026!", actor="chen", first=True)
    chen = signed_in_client(mini, "chen", "Odd-input-2026!")
    odd, bad = chen.get("/supervision?year=²"), chen.get("/supervision?year=x")  # ² was a 500
    assert (odd.status_code, odd.location) == (bad.status_code, bad.location) == (302, "/supervision")
    odd = chen.get("/audit/export.csv?plan=²")  # a plan named by id or business key: was a 500
    assert (odd.status_code, odd.location) == (302, "/audit")
    assert "没有编号或业务编号为 ² 的方案" in chen.get("/audit").get_data(as_text=True)


def test_ids_past_what_a_column_holds_in_a_body_are_ids_that_do_not_exist(mini):
    """PostgreSQL refused to compare them (a 500), SQLite past 2**63 - 1."""
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    chen = _auth(mini.create_token("chen", "OA")["secret"])
    plan, step = _started(mini, client, zhang)
    past = [INTEGER_MAX + 1, 2**63]
    urged = client.post("/api/v1/tasks/urge", headers=chen, json={"task_ids": [step["id"], *past]})
    assert urged.status_code == 200, urged.get_json()
    assert [u["task_id"] for u in urged.get_json()["urged"]] == [step["id"]]
    assert urged.get_json()["skipped"] == [{"task_id": n, "name": None, "reason": "not_found"} for n in past]
    for number in past:
        about = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=chen, json={"text": "请补充", "task_id": number})
        assert (about.status_code, about.get_json()["message"]) == (404, NOT_FOUND)
        # `after`: the newest comment seen; none is newer than such a one
        after = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=chen, json={"text": f"第 {number} 条", "after": number})
        assert after.status_code == 201, after.get_json()


def test_an_id_past_what_a_column_holds_in_the_address_is_not_found_on_every_route(mini):
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    big = INTEGER_MAX + 1
    for method, path in (("PUT", f"/api/v1/tasks/{big}/draft"), ("POST", f"/api/v1/plans/{big}/comments"),
                         ("GET", f"/api/v1/tasks/{big}/draft"), ("POST", f"/api/v1/plans/{big}/stop"),
                         ("POST", f"/api/v1/tasks/{big}/urge")):
        answered = client.open(path, method=method, headers=zhang, json={})  # PUT and POST: 405, Allow: GET
        assert (answered.status_code, answered.get_json()) == (404, {"error": "not_found", "message": NOT_FOUND}), path
        assert "Allow" not in answered.headers


def test_every_answer_that_embeds_a_task_gives_its_form_typed(mini):
    """`constraints.required` is true, not null (the engine's form as the diagram wrote it), in
    start, the plans, a plan, claim, unclaim, assign and complete, as in GET /tasks/{id}."""
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    chen = _auth(mini.create_token("chen", "OA")["secret"])

    def required(task: dict) -> dict:
        return {f["id"]: f["constraints"].get("required") for f in task["form"]}

    started = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval"})
    assert required(started.get_json()["tasks"][0]) == {"summary": True, "days": None}
    plan_id = started.get_json()["id"]
    assert required(client.get("/api/v1/plans", headers=zhang).get_json()["plans"][0]["tasks"][0])["summary"] is True
    assert required(client.get(f"/api/v1/plans/{plan_id}", headers=zhang).get_json()["tasks"][0])["summary"] is True
    step = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    assert step["form"][1]["constraints"]["min"] == 7  # as GET /tasks gives it
    assigned = client.post(f"/api/v1/tasks/{step['id']}/assign", headers=chen,
                           json={"to": "wang", "version": step["version"], "reassign": True}).get_json()
    assert required(assigned)["summary"] is True and assigned["form"][1]["constraints"]["min"] == 7
    handed = client.post(f"/api/v1/tasks/{step['id']}/unclaim", headers=_auth(mini.create_token("wang", "OA")["secret"]),
                         json={"version": assigned["version"]}).get_json()
    assert required(handed)["summary"] is True
    claimed = client.post(f"/api/v1/tasks/{step['id']}/claim", headers=zhang, json={"version": handed["version"]})
    assert required(claimed.get_json())["summary"] is True
    done = client.post(f"/api/v1/tasks/{step['id']}/complete", headers=zhang,
                       json={"data": {"summary": "摘要", "days": 10}, "version": claimed.get_json()["version"]})
    assert done.status_code == 200 and required(done.get_json())["summary"] is True


def test_what_a_client_sent_wrongly_is_said_as_it_is(mini):
    """An urge's invisible character named; a file name not in UTF-8 said so, not "send
    multipart"; a comment sent as a form told that the body must be JSON, not "give text"."""
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    chen = _auth(mini.create_token("chen", "OA")["secret"])
    plan, step = _started(mini, client, zhang)
    urged = client.post(f"/api/v1/tasks/{step['id']}/urge?lang=en", headers=chen, json={"note": "a\u202eb"})
    assert (urged.status_code, urged.get_json()["message"]) == \
        (422, "the note has a control or invisible character, U+202E: remove it and try again")
    body = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="ab\xff\xfe.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n")
    attached = client.post(f"/api/v1/tasks/{step['id']}/files", headers=zhang, data=body,
                           content_type="multipart/form-data; boundary=XX")
    assert (attached.status_code, attached.get_json()["message"]) == \
        (422, "附件无法读取：文件名不是 UTF-8 编码，请改名后重新上传")
    as_form = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang, data={"text": "你好"})
    assert (as_form.status_code, as_form.get_json()["message"]) == (422, "请求正文须为 JSON 对象，Content-Type: application/json")
    assert client.get(f"/api/v1/plans/{plan['id']}/comments", headers=zhang).get_json()["comments"] == []
