"""The web inbox: a Flask application over the same Engine the command line drives. Each page
or button is one call into engine/ (one transaction there); this package only renders and
translates.

    create_app()                     # REFORMFLOW_DATABASE_URL, else instance/reformflow.sqlite3
    create_app("postgresql://...")   # or a URL

`reformflow web` serves it with the timer worker beside it (docs/operations.md).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from engine.commands import Engine
from models.db import Database

from . import error_pages, i18n, names

HERE = Path(__file__).resolve().parent


def create_app(database_url: str | None = None, *, engine: Engine | None = None,
               secret_key: str | None = None, testing: bool = False) -> Flask:
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    app.config.update(
        SECRET_KEY=secret_key or os.environ.get("REFORMFLOW_SECRET_KEY") or _local_secret(app),
        TESTING=testing,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,  # engine/documents.py refuses files over 20 MB with its own message
    )
    app.extensions["reformflow"] = engine or Engine(Database(database_url, create=False))
    Babel(app, locale_selector=i18n.locale)
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "auth.login"
    login.login_message = None  # the login page says what to do itself

    from . import auth, inbox, plans
    login.user_loader(auth.load_user)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(plans.bp)
    from . import analyst; app.register_blueprint(analyst.bp)  # noqa: E702
    from . import auditor; app.register_blueprint(auditor.bp)  # noqa: E702
    from . import office; app.register_blueprint(office.bp)
    i18n.install(app)
    names.install(app)
    error_pages.install(app)
    return app


def _local_secret(app: Flask) -> str:
    """A development key kept in instance/: sessions survive a restart of `make run`. Several web
    workers behind a load balancer must share one: set REFORMFLOW_SECRET_KEY (docs/operations.md)."""
    path = Path(app.instance_path) / "web_secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
