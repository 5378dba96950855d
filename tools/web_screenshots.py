"""Pictures of the web inbox for the README and docs/users.md: the demo loaded into a temporary
database, served on a free port, photographed by Debian's chromium through Playwright.

    .venv/bin/python tools/web_screenshots.py          # writes docs/images/web_inbox.png, web_task.png, web_delegation.png, web_overview.png, web_diagram.png, web_archive.png, web_migrate.png

Needs /usr/bin/chromium (REFORMFLOW_CHROMIUM names another) and fonts-wqy-microhei for the
Chinese text, as `make pictures` does.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import clock  # noqa: E402 - after the path, for a checkout run without install
from engine.commands import Engine  # noqa: E402
from engine.demo import PASSWORD, load_demo  # noqa: E402
from models.db import Database  # noqa: E402
from web import create_app  # noqa: E402

CHROMIUM = os.environ.get("REFORMFLOW_CHROMIUM", "/usr/bin/chromium")
IMAGES = ROOT / "docs" / "images"
SIZE = {"width": 1280, "height": 800}


def demo(folder: Path) -> Engine:
    db = Database(f"sqlite:///{folder / 'demo.sqlite3'}")
    db.upgrade()
    engine = Engine(db)
    load_demo(engine)
    return engine


def signed_in(browser, url: str, username: str):
    """A new browser window of `username`, signed in, on their inbox."""
    page = browser.new_context(viewport=SIZE, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    page.goto(f"{url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/tasks")
    return page


def photograph(url: str, engine: Engine) -> None:
    """li's inbox with the legality review of DT-2015-04 to claim; then its page, claimed, the
    form being filled in; zhou's inbox once li names him to act for her (委托办理); the reform
    office's 工作台 and the 流程图 of DT-2015-04; then the decision archive of DT-2015-08 as it prints."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = signed_in(browser, url, "li")
        page.screenshot(path=IMAGES / "web_inbox.png")
        page.get_by_role("button", name="认领").first.click()
        page.get_by_label("审查结论").select_option("pass")
        page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
        page.screenshot(path=IMAGES / "web_task.png")
        # 委托办理: li, away next week, names zhou; his inbox then shows her claimed review 「代 李娜」
        today = clock.today()
        page.goto(f"{url}/account/delegation")
        page.get_by_label("受托人（代为办理的同事）").select_option("zhou")
        page.get_by_label("第一天").fill(today.isoformat())
        page.get_by_label("最后一天（含当日）").fill((today + timedelta(days=4)).isoformat())
        page.get_by_label("事由").fill("出差")
        page.get_by_role("button", name="设置委托").click()
        zhou = signed_in(browser, url, "zhou")
        zhou.goto(f"{url}/tasks?scope=mine")
        zhou.screenshot(path=IMAGES / "web_delegation.png")
        chen = signed_in(browser, url, "chen")  # the reform office's head, in the morning: 工作台
        chen.goto(f"{url}/overview")
        chen.screenshot(path=IMAGES / "web_overview.png")
        # 流程图 of DT-2015-04: the legality review it is in, the step li holds highlighted
        chen.set_viewport_size({"width": 1920, "height": 1000})  # drawn at the plan's scale: room for all of it
        chen.goto(f"{url}/plans/4/diagram")
        chen.locator("section[data-process=legality_review]").screenshot(path=IMAGES / "web_diagram.png")
        page.goto(f"{url}/plans/8/archive")  # DT-2015-08, decided and filed: li did its legality review
        page.emulate_media(media="print")  # as it prints
        page.screenshot(path=IMAGES / "web_archive.png", full_page=True)
        # 迁移到新版本: an analyst asks the legality opinion to name its grounds (version 2); the reform
        # office previews moving DT-2015-04, whose review li holds, to it
        legality = (ROOT / "bpmn" / "legality_review.bpmn").read_text(encoding="utf-8")
        engine.deploy([("legality_review.bpmn", legality.replace(
            'label="合法性审查意见"', 'label="合法性审查意见（写明所依据的法律法规条款）"', 1).encode())], actor="chen")
        chen.set_viewport_size(SIZE)
        chen.goto(f"{url}/plans/4/migrate")
        chen.get_by_label("迁移理由").fill("审查意见须写明依据（2026 年第 12 号通知）")
        chen.screenshot(path=IMAGES / "web_migrate.png", full_page=True)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = demo(Path(folder))
        app = create_app(engine=engine, secret_key="screenshots")
        app.instance_path = folder
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            photograph(f"http://127.0.0.1:{server.server_port}", engine)
        finally:
            server.shutdown()
            engine.db.dispose()
    for name in ("web_inbox.png", "web_task.png", "web_delegation.png", "web_overview.png", "web_diagram.png",
                 "web_archive.png", "web_migrate.png"):
        print(IMAGES / name)


if __name__ == "__main__":
    main()
