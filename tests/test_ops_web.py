"""Web workers whose database is down: GET /healthz for the proxy and monitoring, and a request
that finds the database unreachable answered 503 with what to do, one log line, nothing changed;
a genuine bug still a 500 with its traceback."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import ProgrammingError

from web import create_app

DOWN = "postgresql://postgres@127.0.0.1:5509/nothing"  # nothing listens there


def _app(url: str | None = None, engine=None):
    app = create_app(url, engine=engine, secret_key="test-key")
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_healthz_is_ok_with_a_database(engine):
    answer = _app(engine=engine).test_client().get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("url", [DOWN, "sqlite:////nonexistent/folder/reformflow.sqlite3"])
def test_healthz_says_unavailable_without_naming_the_configuration(url, caplog):
    caplog.set_level(logging.ERROR)
    answer = _app(url).test_client().get("/healthz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.get_json() == {"status": "unavailable", "database": "unreachable"}
    body = answer.get_data(as_text=True)
    assert "5509" not in body and "postgres" not in body and "nonexistent" not in body
    [record] = [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert "GET /healthz" in record.getMessage() and record.exc_info is None


def test_a_request_that_finds_the_database_down_is_503_with_advice_and_one_log_line(caplog):
    """POST /login gave 「系统出错，未做任何更改」 (500) and the API a 500 JSON, the cause only in a
    traceback per request."""
    caplog.set_level(logging.ERROR)
    client = _app(DOWN).test_client()
    page = client.post("/login", data={"username": "chen", "password": "whatever-1"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    shown = page.get_data(as_text=True)
    assert "数据库暂时无法连接，未做任何更改" in shown and "请告知系统管理员检查数据库服务器" in shown
    assert "The database cannot be reached right now; nothing was changed" in shown and "系统出错" not in shown
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer rf_whatever", "Accept-Language": "en"})
    assert api.status_code == 503 and api.get_json() == {
        "error": "unavailable", "message": "the database cannot be reached right now; nothing was changed; try again shortly"}
    lines = [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert [r.getMessage().split(": ", 1)[0] for r in lines] == ["数据库无法连接 (database unreachable)"] * 2
    assert "POST /login" in lines[0].getMessage() and "Connection refused" in lines[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no traceback


def test_a_database_error_that_is_a_bug_is_still_a_500_with_its_traceback(engine, caplog):
    app = _app(engine=engine)

    @app.route("/broken")
    def broken():
        raise ProgrammingError("SELECT nothing", {}, Exception('column "nothing" does not exist'))
    caplog.set_level(logging.ERROR)
    answer = app.test_client().get("/broken")
    assert answer.status_code == 500 and "系统出错，未做任何更改" in answer.get_data(as_text=True)
    assert any(r.exc_info for r in caplog.records)
