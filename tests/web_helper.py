"""The web inbox in a real browser: Debian's chromium driven by Playwright (never `playwright
install`), against the Flask app served on a free port in this process, over a demo database.

REFORMFLOW_REQUIRE_BROWSER=1 (the README's test command sets it where it installed chromium)
makes a missing browser a failure, not a skip."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import html
import pytest
from werkzeug.serving import make_server

from engine.commands import Engine
from engine.demo import PASSWORD, load_demo
from models.db import Database

CHROMIUM = os.environ.get("REFORMFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo loaded once (users, library, twelve plans), copied for every test."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    load_demo(Engine(db))
    _quick_to_check(db)
    db.dispose()
    return path


def _quick_to_check(db: Database) -> None:
    """The demo's passwords kept with a cheap hash: checking the real one (scrypt) takes a fifth
    of a second, a tenth of the browser tests' time over their hundreds of sign-ins. How passwords
    are kept is tested in tests/test_passwords.py; signing in checks any of werkzeug's hashes."""
    from werkzeug.security import generate_password_hash
    _rehash(db, generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"))


def real_password_hashes(engine: Engine, *usernames: str) -> None:
    """These demo users' passwords kept as the application keeps them, for a test that times
    checking them."""
    from engine.passwords import hashed
    _rehash(engine.db, hashed(PASSWORD), usernames)


def _rehash(db: Database, password_hash: str, usernames=()) -> None:
    from sqlalchemy import update

    from models import User
    change = update(User).where(User.password_hash.is_not(None)).values(password_hash=password_hash)
    with db.engine.begin() as conn:
        conn.execute(change.where(User.username.in_(usernames)) if usernames else change)


@pytest.fixture
def demo_engine(demo_template, tmp_path) -> Engine:
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    db = Database(f"sqlite:///{path}")
    yield Engine(db)
    db.dispose()


class LiveServer:
    """The web app served by Werkzeug in a thread of this process, on a free port."""

    def __init__(self, engine: Engine):
        from web import create_app
        self.app = create_app(engine=engine, secret_key="test-secret")
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # stop() waits for the serving loop to look up: every 0.5 s by default, a third of a
        # second at the end of each browser test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture
def live(demo_engine):
    server = LiveServer(demo_engine)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """One chromium for the whole run (tests/conftest.py loads this module as a plugin, so the
    session fixture is the run's, not each test module's)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("REFORMFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"REFORMFLOW_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page, live: LiveServer, username: str, password: str = PASSWORD) -> None:
    """Signed in as the login form signs in (its form token, the same POST, into this browser's
    cookies), then the inbox opened: two page loads fewer than filling the form, about 0.4 s of
    each of some 300 sign-ins. The form itself, in the browser, is tests/test_web_inbox.py's and
    tests/test_web_sign_ins.py's."""
    form = page.request.get(f"{live.url}/login").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = page.request.post(f"{live.url}/login", max_redirects=0,
                               form={"csrf_token": token, "username": username, "password": password})
    assert answer.status == 302, f"signing in as {username}: {answer.status} {answer.text()[:300]}"
    page.goto(f"{live.url}/tasks")


def signed_in_client(engine: Engine, username: str, password: str = PASSWORD, language: str | None = None):
    """A Flask test client signed in as `username`, without the form token (which
    tests/test_web_security.py tests): for pages where no browser is needed. `language`: the
    pages' language chosen as a person chooses it (zh, en), else the default."""
    from web import create_app
    app = create_app(engine=engine, secret_key="test", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    if language is not None:
        client.post(f"/language/{language}")
    return client


def page_text(answer) -> str:
    """A page's words as a reader sees them: tags out, entities read, spaces collapsed."""
    page = answer.get_data(as_text=True)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def plan_id(engine: Engine, business_key: str) -> int:
    from sqlalchemy import select

    from models import ProcessInstance
    with engine.db.reader() as s:
        return s.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)).scalar_one()


def open_task(engine: Engine, plan_key: str, element_id: str) -> dict:
    """The open or claimed task of a step of a plan (by business key), as its page shows it."""
    from sqlalchemy import select

    from models import HumanTask, ProcessInstance
    with engine.db.reader() as s:
        task_id = s.execute(select(HumanTask.id).join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
                            .where(ProcessInstance.business_key == plan_key, HumanTask.element_id == element_id,
                                   HumanTask.status.in_(("open", "claimed")))).scalar_one()
    return engine.task_view(task_id)
