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
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok", "database": "ok", "timers": "ok"}


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


def test_a_page_read_while_the_database_is_down_does_not_say_nothing_was_changed_and_a_form_shows_what_was_typed(
        demo_engine):
    """The concurrency audit of 6 December 2026: the page after a claim that went through, read while
    the connection was lost, said 「未做任何更改」; a step's form posted then lost what was typed."""
    signed_in = _app(engine=demo_engine).test_client()
    assert signed_in.post("/login", data={"username": "li", "password": "demo"}).status_code == 302
    cookie = signed_in.get_cookie("session").value
    down = _app(DOWN).test_client()  # the same secret key: the same session, the database gone
    down.set_cookie("session", cookie)
    page = down.get("/tasks")
    shown = page.get_data(as_text=True)
    assert page.status_code == 503 and "数据库暂时无法连接，本页暂时无法显示" in shown
    assert "已提示成功的操作已经保存" in shown and "未做任何更改" not in shown
    assert "What you were told was done is saved" in shown
    posted = down.post("/tasks/7/complete", data={"reviewOpinion": "依法审查，<b>同意</b>", "version": "3"})
    shown = posted.get_data(as_text=True)
    assert posted.status_code == 503 and "数据库暂时无法连接，未做任何更改" in shown
    assert "您在本页填写的内容没有保存，请先复制留存" in shown
    assert "<dt>reviewOpinion</dt><dd><pre>依法审查，&lt;b&gt;同意&lt;/b&gt;</pre></dd>" in shown


def test_a_connection_lost_during_an_action_says_it_may_have_gone_in(engine):
    """The docs audit of 6 December 2026: a connection that broke during an action (a server restart,
    pg_terminate_backend) said 「未做任何更改」, but it may break after COMMIT reached the server: a
    start sent again would make a second plan."""
    from sqlalchemy.exc import OperationalError
    app = _app(engine=engine)
    lost = OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"),
                            connection_invalidated=True)

    def broken():
        raise lost
    app.add_url_rule("/acting", "acting", broken, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/acting", "api_acting", broken, methods=["POST"])
    client = app.test_client()
    page = client.post("/acting")
    shown = page.get_data(as_text=True)
    assert page.status_code == 503 and "未做任何更改" not in shown and "nothing was changed" not in shown
    assert "数据库连接在办理中断开，本次操作可能没有完成" in shown and "查看是否已经保存" in shown
    assert "which may not have completed" in shown
    read = client.get("/acting").get_data(as_text=True)  # a read changes nothing: as before
    assert "本页暂时无法显示" in read and "可能没有完成" not in read
    api = client.post("/api/v1/acting", headers={"Accept-Language": "en"})
    assert api.status_code == 503 and api.get_json() == {
        "error": "unavailable", "message": "the database connection was lost during the action, which may not "
                                           "have completed: read before sending it again"}


def test_a_database_error_that_is_a_bug_is_still_a_500_with_its_traceback(engine, caplog):
    app = _app(engine=engine)

    @app.route("/broken")
    def broken():
        raise ProgrammingError("SELECT nothing", {}, Exception('column "nothing" does not exist'))
    caplog.set_level(logging.ERROR)
    answer = app.test_client().get("/broken")
    assert answer.status_code == 500 and "系统出错，未做任何更改" in answer.get_data(as_text=True)
    assert any(r.exc_info for r in caplog.records)


# ------------------------------------------------------------------ settings
def test_an_unknown_reformflow_variable_is_warned_of_once_with_the_closest_known_one(monkeypatch, caplog, engine):
    from web import settings
    monkeypatch.setenv("REFORMFLOW_SECURE_COOKIE", "1")  # the S missing: silently ignored before
    monkeypatch.setenv("REFORMFLOW_WHATEVER", "x")
    assert settings.warning_lines() == [
        "reformflow: 未知的环境变量 REFORMFLOW_SECURE_COOKIE，已忽略，是否应为 REFORMFLOW_SECURE_COOKIES？ "
        "(unknown environment variable REFORMFLOW_SECURE_COOKIE, ignored: did you mean REFORMFLOW_SECURE_COOKIES?)",
        "reformflow: 未知的环境变量 REFORMFLOW_WHATEVER，已忽略 (unknown environment variable REFORMFLOW_WHATEVER, "
        "ignored)"]
    monkeypatch.setattr(settings, "_warned", [])
    caplog.set_level(logging.WARNING)
    _app(engine=engine)
    _app(engine=engine)  # a second app in the same process: not again
    said = [r.getMessage() for r in caplog.records if "REFORMFLOW_SECURE_COOKIE," in r.getMessage()]
    assert len(said) == 1
    # the settings the docs and the test suite name are known
    assert settings.unknown({"REFORMFLOW_SMTP_FROM": "x", "REFORMFLOW_TEST_POSTGRES_URL": "x"}) == []


def test_the_worker_warns_of_an_unknown_reformflow_variable(sqlite_db):
    from click.testing import CliRunner

    from engine.cli import main
    result = CliRunner().invoke(main, ["--db", sqlite_db.url, "worker", "--rounds", "1", "--interval", "0"],
                                env={"REFORMFLOW_SMTP_HOTS": "mail.example.gov.cn"})
    assert result.exit_code == 0
    assert "未知的环境变量 REFORMFLOW_SMTP_HOTS，已忽略，是否应为 REFORMFLOW_SMTP_HOST？" in result.stderr


def test_a_bad_setting_stops_gunicorn_with_one_line_and_no_traceback(tmp_path):
    """REFORMFLOW_PROXIES=yes stopped gunicorn (exit 3) with the one useful line inside 38-99 lines of
    traceback per worker."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFORMFLOW_")}
    env.update(REFORMFLOW_PROXIES="yes", REFORMFLOW_SECURE_COOKIE="1", REFORMFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'none.sqlite3'}",
               REFORMFLOW_SECRET_KEY="9" * 64, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "--workers", "4", "--bind",
                           "127.0.0.1:5503", "--no-control-socket", "web:create_app()"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "REFORMFLOW_PROXIES" in line]
    assert said == ["reformflow: 设置有误，网页进程未启动 (a setting is wrong, the web workers do not start): "
                    "REFORMFLOW_PROXIES='yes': 须为代理的层数，如 1 (must be the number of proxies, e.g. 1)"]
    assert "Reason: Worker failed to boot." in done.stderr
    import re
    import tempfile
    master = re.search(r"\[(\d+)\] \[INFO\] Starting gunicorn", done.stderr).group(1)
    for what in ("bad-setting", "unknown-settings"):  # the first worker's marks
        (Path(tempfile.gettempdir()) / f"reformflow-{what}-{master}").unlink()
    # the misspelt name beside it: said once by the first worker, not once per worker
    assert done.stderr.count("未知的环境变量 REFORMFLOW_SECURE_COOKIE，已忽略") == 1


def test_reformflow_web_refuses_a_bad_setting_in_one_line(sqlite_db, monkeypatch):
    from click.testing import CliRunner

    from engine.cli import main
    monkeypatch.setenv("REFORMFLOW_SESSION_HOURS", "zero")
    result = CliRunner().invoke(main, ["--db", sqlite_db.url, "web", "--no-worker"])
    assert result.exit_code == 3
    assert result.stderr.startswith("reformflow: invalid: REFORMFLOW_SESSION_HOURS='zero': 须为小时数")


@pytest.mark.parametrize("key, said", [
    ("4b8e…64 hex digits…", "是文档中的示例"),  # docs/operations.md's example: anyone could sign a cookie as chen
    ("chen1", "只有 5 个字符，至少须 32 个"),
])
def test_a_secret_key_anyone_could_guess_stops_the_web_in_one_line_saying_how_to_make_one(sqlite_db, monkeypatch,
                                                                                         key, said):
    from click.testing import CliRunner

    from engine.cli import main
    monkeypatch.setenv("REFORMFLOW_SECRET_KEY", key)
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: print("served"))  # never serve here
    result = CliRunner().invoke(main, ["--db", sqlite_db.url, "web", "--no-worker", "--port", "5650"])
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(f"reformflow: invalid: REFORMFLOW_SECRET_KEY {said}")
    assert "python3 -c 'import secrets; print(secrets.token_hex(32))'" in line


def test_a_made_key_is_taken_as_it_is(engine, monkeypatch):
    import secrets
    key = secrets.token_hex(32)
    monkeypatch.setenv("REFORMFLOW_SECRET_KEY", key)
    assert create_app(engine=engine).config["SECRET_KEY"] == key


def test_gunicorn_without_a_key_where_instance_cannot_be_written_says_what_to_do_in_one_line(tmp_path):
    """A service user in a folder it cannot write, without REFORMFLOW_SECRET_KEY: "Worker failed to boot"
    after a PermissionError traceback. Here instance/ is a file, which root cannot write into either."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    (tmp_path / "instance").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFORMFLOW_")}
    env.update(REFORMFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'none.sqlite3'}",
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind",
                           "127.0.0.1:5651", "--no-control-socket", "web:create_app()"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    [said] = [line for line in done.stderr.splitlines() if line.startswith("reformflow:")]
    assert said.startswith(f"reformflow: 设置有误，网页进程未启动 (a setting is wrong, the web workers do not start): "
                           f"无法保存网页密钥 {tmp_path / 'instance' / 'web_secret_key'}")
    assert "请设置 REFORMFLOW_SECRET_KEY，或让运行用户可写" in said
    import re
    import tempfile
    master = re.search(r"\[(\d+)\] \[INFO\] Starting gunicorn", done.stderr).group(1)
    (Path(tempfile.gettempdir()) / f"reformflow-bad-setting-{master}").unlink(missing_ok=True)


def test_healthz_says_the_timers_are_behind_when_a_timer_is_15_minutes_past_due_and_stays_200(engine):
    """The audit of 6 December 2026: the timer worker stopped for weeks and GET /healthz said ok.
    It says "behind" and since when, still 200: the web workers can serve (a 503 would take them
    all out of the proxy's rotation for want of another process)."""
    from datetime import datetime

    from engine import clock

    from .conftest import FIXTURES
    engine.add_group("drafter", "牵头单位")
    engine.add_user("zhang", "张伟", groups=["drafter"])
    engine.deploy([("deadline_months.bpmn", (FIXTURES / "diagrams" / "deadline_months.bpmn").read_bytes())])
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})  # due 2026-02-28 10:00 Beijing
    client = _app(engine=engine).test_client()
    with clock.frozen(datetime.fromisoformat("2026-02-28T10:14:00")):  # a slow round, not a stopped worker
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "timers": "ok"}
    with clock.frozen(datetime.fromisoformat("2026-02-28T10:16:00")):
        answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {
        "status": "ok", "database": "ok", "timers": "behind", "timers_due_since": "2026-02-28T02:00:00+00:00"}
    with clock.frozen(datetime.fromisoformat("2026-02-28T10:16:00")):
        engine.fire_due_timers()  # the worker is back
        assert client.get("/healthz").get_json()["timers"] == "ok"
