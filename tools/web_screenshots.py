"""Pictures of the web inbox for the README and docs/users.md: the demo loaded into a temporary
database, served on a free port, photographed by Debian's chromium through Playwright.

    .venv/bin/python tools/web_screenshots.py          # writes docs/images/web_inbox.png, web_task.png, web_archive.png

Needs /usr/bin/chromium (REFORMFLOW_CHROMIUM names another) and fonts-wqy-microhei for the
Chinese text, as `make pictures` does.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.commands import Engine  # noqa: E402 - after the path, for a checkout run without install
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


def photograph(url: str) -> None:
    """li's inbox with the legality review of DT-2015-04 to claim; then its page, claimed, the
    form being filled in; then the decision archive of DT-2015-08 as it prints."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_context(viewport=SIZE, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
        page.goto(f"{url}/login")
        page.get_by_label("用户名").fill("li")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/tasks")
        page.screenshot(path=IMAGES / "web_inbox.png")
        page.get_by_role("button", name="认领").first.click()
        page.get_by_label("审查结论").select_option("pass")
        page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
        page.screenshot(path=IMAGES / "web_task.png")
        page.goto(f"{url}/plans/8/archive")  # DT-2015-08, decided and filed: li did its legality review
        page.emulate_media(media="print")  # as it prints
        page.screenshot(path=IMAGES / "web_archive.png", full_page=True)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = demo(Path(folder))
        app = create_app(engine=engine, secret_key="screenshots")
        app.instance_path = folder
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            photograph(f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            engine.db.dispose()
    for name in ("web_inbox.png", "web_task.png", "web_archive.png"):
        print(IMAGES / name)


if __name__ == "__main__":
    main()
