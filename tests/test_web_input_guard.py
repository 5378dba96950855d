"""What a client can send that the database could not keep, or that broke the request: a NUL
character (PostgreSQL's text columns refuse one: a 500 there), JSON nested a thousand deep, a
statistics period in the year 1 or 9999, a version given as text. Each is refused with a clear
4xx, on SQLite and PostgreSQL, and nothing is changed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.errors import Invalid
from models import AuditEvent, Comment

from web import create_app

from .conftest import FIXTURES, read


def _client(engine):
    app = create_app(engine=engine, secret_key="test", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False  # the form token is tests/test_web_security.py's
    return app.test_client()


@pytest.fixture
def mini(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    return engine


def _events(engine) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_a_nul_character_is_refused_by_the_engine(mini):
    with pytest.raises(Invalid, match="空字符"):
        mini.start("mini_approval", actor="zhang", title="方案\x00名称")
    plan = mini.start("mini_approval", actor="zhang")
    with pytest.raises(Invalid, match=r"含有空字符（U\+0000）"):
        mini.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "a\x00b"})
    with pytest.raises(Invalid, match="空字符"):
        mini.complete(plan["tasks"][0]["id"], actor="zhang", data={"a\x00": "key"})


def test_a_nul_character_in_a_web_form_or_an_api_body_is_refused_not_a_500(mini):
    plan = mini.start("mini_approval", actor="zhang")
    secret = mini.create_token("zhang", "OA", None)["secret"]
    before = _events(mini)
    client = _client(mini)
    # before any page reads the form: the sign-in form itself, whose name goes into the trail
    page = client.post("/login", data={"username": "zhang\x00", "password": "x"})
    assert page.status_code == 400 and "含有空字符（U+0000）" in page.get_data(as_text=True)
    assert client.get("/tasks?q=a%00b").status_code == 400
    answer = client.post(f"/api/v1/plans/{plan['id']}/comments", headers={"Authorization": f"Bearer {secret}"},
                         data=json.dumps({"text": "留言\u0000"}), content_type="application/json")
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid"
    with mini.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Comment)).scalar_one() == 0
    assert _events(mini) == before


def test_json_nested_too_deep_an_extreme_period_and_a_version_as_text_are_422(mini):
    plan = mini.start("mini_approval", actor="zhang")
    task = plan["tasks"][0]
    client = _client(mini)
    auth = {"Authorization": f"Bearer {mini.create_token('chen', 'OA', None)['secret']}"}
    deep = '{"x":' + "[" * 1000 + "]" * 1000 + "}"
    answer = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth, data=deep, content_type="application/json")
    assert answer.status_code == 422 and "JSON" in answer.get_json()["message"]
    for query in ("since=0001-01-01", "until=9999-12-31"):
        answer = client.get(f"/api/v1/stats?{query}", headers=auth)
        assert answer.status_code == 422 and "1900 至 2100" in answer.get_json()["message"], query
    zhang = {"Authorization": f"Bearer {mini.create_token('zhang', 'OA', None)['secret']}"}
    answer = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=zhang,
                         data=json.dumps({"version": "1", "data": {"summary": "s"}}), content_type="application/json")
    assert answer.status_code == 422 and '而不是 "1"' in answer.get_json()["message"]
    answer = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=zhang,
                         data=json.dumps({"version": task["version"], "data": []}), content_type="application/json")
    assert answer.status_code == 422 and "data 须为 JSON 对象" in answer.get_json()["message"]
