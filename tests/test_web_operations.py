"""Running the web inbox as an operator does (docs/operations.md, section 2a): `reformflow web`
and gunicorn's command line from the guide, each started as a real process on a free port over a
copy of the demo database; the settings read from the environment; and two legal reviewers
claiming one task at the same moment on PostgreSQL."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, time as day_time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, func, select, text

from engine import clock
from engine.commands import Engine
from engine.demo import load_demo
from engine.queries import list_tasks
from models import AuditEvent, HumanTask
from models.db import Database

from .conftest import ROOT
from .shifted_process import shifted
from .web_helper import LiveServer, sign_in

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A server started as its own process; `url` answers once it is up."""

    def __init__(self, argv: list[str], cwd: Path, port: int, env: dict[str, str] | None = None):
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / "server.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("REFORMFLOW_")}
        self.proc = subprocess.Popen(shifted(argv), cwd=cwd, env={**environment, **(env or {})},
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{argv[0]} exited {self.proc.returncode}:\n{self.output()}")
            try:
                urllib.request.urlopen(f"{self.url}/login", timeout=2).close()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"{argv[0]} did not answer in 60 s:\n{self.output()}")
                time.sleep(0.2)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"{self.url}{path}", headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _demo_copy(demo_template: Path, folder: Path) -> str:
    path = folder / "demo.sqlite3"
    shutil.copy(demo_template, path)
    return f"sqlite:///{path}"


def _legality_review(engine: Engine) -> dict:
    with engine.db.reader() as s:
        return next(t for t in list_tasks(s, "li", "all") if t["element_id"] == "Task_LegalityReview")


# ------------------------------------------------------------------ reformflow web (make run)
def test_reformflow_web_serves_the_inbox_and_its_worker_fires_the_due_timers(demo_template, tmp_path):
    url = _demo_copy(demo_template, tmp_path)
    engine = Engine(Database(url))
    assert _legality_review(engine)["reminded_at"] is None
    # as the README's walk-through: the morning of the review's due date (Beijing), after its reminder
    # (two working days before) and before the deadline, whatever weekday the demo was made on
    # (the deadline is the end of the due date: midnight after it, Beijing time)
    due = (datetime.fromisoformat(_legality_review(engine)["due_at"]).astimezone(clock.TZ) - timedelta(seconds=1)).date()
    later = datetime.combine(due, day_time(9, 0)).isoformat()
    port = _free_port()
    server = Served([str(BIN / "reformflow"), "--db", url, "--now", later, "web", "--port", str(port),
                     "--interval", "0.5"], tmp_path, port)
    try:
        status, body = server.get("/login")
        assert status == 200 and "登录" in body and "改革方案审批" in body
        deadline = time.monotonic() + 30
        # the round logs what it fired after it has committed it (and sent the mail): wait for both
        while _legality_review(engine)["reminded_at"] is None or "fired timers in" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.3)
    finally:
        server.stop()
        engine.db.dispose()
    log = server.output()
    assert f"网页待办 (web inbox): http://127.0.0.1:{port}/" in log
    assert "已触发" in log and "fired timers in" in log
    assert (tmp_path / "instance" / "web_secret_key").exists()  # in the folder it runs in, not elsewhere


# ------------------------------------------------------------------ gunicorn, as in the guide
def _guide_command(port: int) -> list[str]:
    """The ExecStart line of docs/operations.md's web unit, run from this checkout on `port`,
    with two workers instead of four (the test machine's cores are shared)."""
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    line = re.search(r"^ExecStart=(\S*gunicorn .*)$", guide, re.M).group(1)
    argv = shlex.split(line)
    argv[0] = str(BIN / "gunicorn")
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    argv[argv.index("--workers") + 1] = "2"
    return argv


@pytest.fixture(scope="module")
def gunicorn_server(demo_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    url = _demo_copy(demo_template, folder)
    port = _free_port()
    server = Served(_guide_command(port), folder, port, env={
        "REFORMFLOW_DATABASE_URL": url, "REFORMFLOW_SECRET_KEY": "operations-test-key-" + "0" * 32,
        "REFORMFLOW_PROXIES": "1"})
    server.engine = Engine(Database(url))
    yield server
    server.stop()
    server.engine.db.dispose()


def test_gunicorn_started_as_the_guide_says_serves_the_login_page(gunicorn_server):
    status, body = gunicorn_server.get("/login")
    assert status == 200 and "用户名" in body and "改革方案审批" in body
    # REFORMFLOW_PROXIES=1: a path prefix set by the proxy is in every link
    _, prefixed = gunicorn_server.get("/login", {"X-Forwarded-Prefix": "/reform"})
    assert 'href="/reform/static/style.css"' in prefixed
    assert "Booting worker" in gunicorn_server.output()


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(gunicorn_server, page):
    review = _legality_review(gunicorn_server.engine)
    assert review["status"] == "open"
    sign_in(page, gunicorn_server, "li")
    # signed in, a claim as a forged page elsewhere would send it: the session cookie, no token
    answer = page.request.post(f"{gunicorn_server.url}/tasks/{review['id']}/claim",
                               form={"version": str(review["version"]), "back": "tasks"}, max_redirects=0)
    assert answer.status == 400 and "页面已过期，未做任何更改" in answer.text()
    after = _legality_review(gunicorn_server.engine)
    assert (after["status"], after["assignee"], after["version"]) == ("open", None, review["version"])
    # the same claim from the page itself (its token) goes through: the 400 was the token
    page.locator(f"tr[data-task='{review['id']}']").get_by_role("button", name="认领").click()
    expect(page.get_by_role("status")).to_contain_text(f"已认领任务 {review['id']}")
    assert _legality_review(gunicorn_server.engine)["assignee"] == "li"


# ------------------------------------------------------------------ settings from the environment
def test_the_audit_check_runs_beside_gunicorns_workers_and_any_of_them_shows_it(gunicorn_server, page):
    """The check runs in a thread of the worker that took the click (engine/audit_checks.py) and its
    page is read from the database, so whichever of the two workers serves the reloads shows it."""
    sign_in(page, gunicorn_server, "feng")
    page.goto(f"{gunicorn_server.url}/audit")
    page.get_by_role("button", name="校验哈希链").click()
    expect(page.locator(".verdict.intact")).to_contain_text("审计记录完好", timeout=15_000)
    check_page = page.url
    for _ in range(4):  # either worker: the same result
        page.goto(check_page)
        expect(page.locator(".verdict.intact")).to_contain_text("审计记录完好")
    with gunicorn_server.engine.db.reader() as s:
        assert s.execute(select(AuditEvent.event_type).order_by(AuditEvent.seq.desc()).limit(1)).scalar() == "audit_verified"


def test_forwarded_headers_count_only_when_the_operator_says_a_proxy_is_in_front(demo_template, tmp_path,
                                                                                monkeypatch):
    from web import create_app
    url = _demo_copy(demo_template, tmp_path)
    monkeypatch.chdir(tmp_path)
    forged = {"X-Forwarded-Prefix": "/elsewhere", "X-Forwarded-Proto": "https"}
    monkeypatch.delenv("REFORMFLOW_PROXIES", raising=False)
    body = create_app(url, secret_key="k").test_client().get("/login", headers=forged).text
    assert 'href="/static/style.css"' in body
    monkeypatch.setenv("REFORMFLOW_PROXIES", "one")
    with pytest.raises(ValueError, match="REFORMFLOW_PROXIES"):
        create_app(url, secret_key="k")


def test_the_session_cookie_is_secure_only_when_the_operator_turns_it_on(demo_template, tmp_path, monkeypatch):
    from web import create_app
    url = _demo_copy(demo_template, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REFORMFLOW_SECURE_COOKIES", raising=False)
    plain = create_app(url, secret_key="k").test_client().get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "Secure" not in plain  # make run, on http://, must sign people in
    monkeypatch.setenv("REFORMFLOW_SECURE_COOKIES", "1")
    secure = create_app(url, secret_key="k").test_client().get("/login").headers["Set-Cookie"]
    assert "; Secure" in secure
    monkeypatch.setenv("REFORMFLOW_SECURE_COOKIES", "yse")  # a typo must not mean "off"
    with pytest.raises(ValueError, match="REFORMFLOW_SECURE_COOKIES"):
        create_app(url, secret_key="k")


def _key_at_the_barrier(instance: str, barrier, keys) -> None:
    import secrets

    from flask import Flask

    from web import settings
    made = secrets.token_hex
    # (in this forked worker only) a key slow to make: every worker finds no file, makes its own
    settings.secrets = type("SlowSecrets", (), {"token_hex": staticmethod(lambda n: time.sleep(0.3) or made(n))})
    barrier.wait()
    keys.put(settings.secret_key(Flask("worker", instance_path=instance)))


def test_web_workers_started_together_without_a_key_share_the_one_they_keep(tmp_path):
    """Without REFORMFLOW_SECRET_KEY each of gunicorn's workers reads instance/web_secret_key as it
    boots: eight at once all read the one the first wrote whole, and no draft is left behind."""
    import multiprocessing
    fork = multiprocessing.get_context("fork")
    barrier, keys = fork.Barrier(8), fork.Queue()
    workers = [fork.Process(target=_key_at_the_barrier, args=(str(tmp_path / "instance"), barrier, keys))
               for _ in range(8)]
    for w in workers:
        w.start()
    found = [keys.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert len(set(found)) == 1 and len(found[0]) == 64
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["web_secret_key"]


# ------------------------------------------------------------------ two reviewers at once, PostgreSQL
@pytest.fixture(scope="module")
def pg_live(postgres_url, postgres_tables):
    """The demo on PostgreSQL (a few seconds to load: once for the module), served in this process."""
    postgres_tables.reset()
    db = Database(postgres_url)
    engine = Engine(db)
    load_demo(engine)
    engine.add_user("li2", "李二", groups=["legal"], unit="市司法局", password="demo")
    server = LiveServer(engine)
    yield server
    server.stop()
    db.dispose()


_WAITING = text("SELECT pid, state, wait_event_type, wait_event, left(query, 80) AS query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.mark.postgres
def test_two_reviewers_claim_the_same_task_at_once_one_wins_the_other_sees_a_conflict(pg_live, browser,
                                                                                   postgres_url):
    engine = pg_live.app.extensions["reformflow"]
    review = _legality_review(engine)
    pages = {}
    for who in ("li", "li2"):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        pages[who] = context.new_page()
        pages[who].set_default_timeout(15_000)
        sign_in(pages[who], pg_live, who)
        expect(pages[who].locator(f"tr[data-task='{review['id']}']")).to_contain_text("待认领")

    # Hold the task's row so both claims reach the database and wait there together; let go,
    # and PostgreSQL's row lock decides.
    holder = create_engine(postgres_url)
    # autocommit: a transaction sees one snapshot of pg_stat_activity, taken at its first read
    watcher = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with holder.connect() as conn:
            transaction = conn.begin()
            conn.execute(select(HumanTask.id).where(HumanTask.id == review["id"]).with_for_update())
            for who in pages:
                pages[who].locator(f"tr[data-task='{review['id']}']").get_by_role(
                    "button", name="认领").click(no_wait_after=True)
            deadline = time.monotonic() + 15
            with watcher.connect() as watch:
                while True:
                    waiting = watch.execute(_WAITING).all()
                    if sum(w.wait_event_type == "Lock" for w in waiting) == 2:
                        break
                    assert time.monotonic() < deadline, f"the two claims did not both wait for the row: {waiting}"
                    time.sleep(0.05)
            transaction.rollback()

        flashes = {}
        for who, p in pages.items():
            message = p.locator("p.flash")
            expect(message).to_be_visible()
            flashes[who] = (message.get_attribute("class"), message.inner_text())
    finally:
        holder.dispose()
        watcher.dispose()
        for p in pages.values():
            p.context.close()

    winners = [who for who, (kind, said) in flashes.items() if "ok" in kind.split()]
    assert len(winners) == 1, flashes
    loser = "li2" if winners == ["li"] else "li"
    kind, said = flashes[loser]
    assert "conflict" in kind.split() and "已在别处处理或修改（其他人，或您在另一个页面），请刷新后重试" in said
    assert f"已认领任务 {review['id']}" in flashes[winners[0]][1]

    after = engine.task_view(review["id"])
    assert after["status"] == "claimed" and after["assignee"] == winners[0]
    with engine.db.reader() as s:
        claims = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event_type == "task_claimed", AuditEvent.task_id == review["id"])).scalar()
    assert claims == 1
