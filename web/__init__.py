"""The web inbox: a Flask application over the same Engine the command line drives. Each page
or button is one call into engine/ (one transaction there); this package only renders and
translates.

    create_app()                     # REFORMFLOW_DATABASE_URL, else instance/reformflow.sqlite3
    create_app("postgresql://...")   # or a URL

The JSON API for other systems (/api/v1, personal access tokens) is one blueprint of it, web/api.py.
`reformflow web` serves it with the timer worker beside it; in production gunicorn serves
`web:create_app()` in several processes behind a reverse proxy (docs/operations.md, section 2a).
Settings from the environment: REFORMFLOW_DATABASE_URL, REFORMFLOW_SECRET_KEY,
REFORMFLOW_PROXIES (how many proxies stand in front), REFORMFLOW_SECURE_COOKIES (HTTPS),
REFORMFLOW_IDLE_MINUTES and REFORMFLOW_SESSION_HOURS (when a session ends by itself).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.commands import Engine
from models.db import Database

from . import current, error_pages, i18n, names, security_headers, session_timeout
from .row_ids import RowId

HERE = Path(__file__).resolve().parent


def create_app(database_url: str | None = None, *, engine: Engine | None = None,
               secret_key: str | None = None, testing: bool = False) -> Flask:
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    _warn_of_unknown_settings(app)
    app.url_map.converters["int"] = RowId  # before any route is added
    app.config.update(
        SECRET_KEY=secret_key or os.environ.get("REFORMFLOW_SECRET_KEY") or _local_secret(app),
        TESTING=testing,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,  # engine/documents.py refuses files over 20 MB with its own message
    )
    try:
        _serve_over_https(app)
        _session_limits(app)
        _behind_proxies(app)
    except SettingError as exc:
        _stop_gunicorn_worker(exc)
        raise
    app.extensions[current.KEY] = engine or Engine(Database(database_url, create=False))
    Babel(app, locale_selector=i18n.locale)
    csrf = CSRFProtect(app)
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
    from . import reports; app.register_blueprint(reports.bp)  # noqa: E702
    from . import people; app.register_blueprint(people.bp)  # noqa: E702
    from . import mail; app.register_blueprint(mail.bp)  # noqa: E702
    from . import api; app.register_blueprint(api.bp)  # noqa: E702
    csrf.exempt(api.bp)  # a bearer token, never the session cookie: nothing for another site to forge
    from . import health; app.register_blueprint(health.bp)  # noqa: E702 - GET /healthz, no sign-in
    i18n.install(app)
    names.install(app)
    error_pages.install(app)
    health.install(app)  # the database unreachable: 503 and one log line, not a 500 with a traceback
    security_headers.install(app)
    session_timeout.install(app)
    return app


class SettingError(ValueError):
    """A REFORMFLOW_* setting with a value it cannot have: the web workers do not start."""


_warned: list[bool] = []


def _warn_of_unknown_settings(app: Flask) -> None:
    """Once per process, in the log: each REFORMFLOW_* variable reformflow does not read, with the
    known name closest to it (REFORMFLOW_SECURE_COOKIE was silently ignored)."""
    from . import settings
    if _warned:
        return
    _warned.append(True)
    lines = settings.warning_lines()
    if lines and _first_gunicorn_worker("unknown-settings"):  # not once per worker
        for line in lines:
            app.logger.warning(line)


def _first_gunicorn_worker(what: str) -> bool:
    """Whether this process is the first of its gunicorn's workers to get here (True outside
    gunicorn): a mark named after the gunicorn master in the temporary folder, made by one alone."""
    import tempfile
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return True
    mark = Path(tempfile.gettempdir()) / f"reformflow-{what}-{os.getppid()}"
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    except OSError:
        return True  # no temporary folder to write in: every worker says it
    return True


def _stop_gunicorn_worker(exc: SettingError) -> None:
    """Under gunicorn, say the setting on one line and end the worker with gunicorn's "worker failed
    to boot" status (3), which stops gunicorn: the exception would be a traceback of 38-99 lines
    per worker around that one line. Elsewhere (`reformflow web`, tests) the exception is raised."""
    import sys
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return
    # Only the first worker of this gunicorn says so and exits 3: gunicorn halts on it, and a second
    # worker exiting 3 while it halts makes gunicorn itself fail with a traceback and exit 1. The
    # others exit 1, which gunicorn only logs, until it halts.
    if not _first_gunicorn_worker("bad-setting"):
        sys.exit(1)
    print(f"reformflow: 设置有误，网页进程未启动 (a setting is wrong, the web workers do not start): {exc}",
          file=sys.stderr, flush=True)
    sys.exit(3)


def _local_secret(app: Flask) -> str:
    """A development key kept in instance/: sessions survive a restart of `make run`. Several web
    workers behind a load balancer must share one: set REFORMFLOW_SECRET_KEY (docs/operations.md)."""
    path = Path(app.instance_path) / "web_secret_key"
    if not path.exists():
        # gunicorn's workers start together: the key is written whole under another name, then
        # linked in place, which fails for all but the first, so every worker reads one key.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _flag(name: str) -> bool:
    """An on/off setting from the environment; a misspelt value stops the start-up instead of
    quietly meaning "off" (for REFORMFLOW_SECURE_COOKIES that would be cookies sent over HTTP)."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingError(f"{name}={value!r}: 须为 1 或 0 (must be 1 or 0)")


def _serve_over_https(app: Flask) -> None:
    """REFORMFLOW_SECURE_COOKIES=1 where people reach the site over HTTPS: the browser then never
    sends the session cookie over plain HTTP. Off by default, or `make run` on http:// could not
    sign anyone in."""
    if _flag("REFORMFLOW_SECURE_COOKIES"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)


def _whole_number(name: str, default: int, *, least: int, zh: str, en: str, example: int) -> int:
    """A whole number of at least `least` from the environment, else `default`; anything else
    stops the start-up, saying what the setting must be (`zh`, `en`) with an example."""
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < least:
        raise SettingError(f"{name}={raw!r}: 须为{zh}，如 {example} (must be {en}, e.g. {example})")
    return int(raw)


def _session_limits(app: Flask) -> None:
    """A session ends after REFORMFLOW_IDLE_MINUTES (30) without a request and at the latest
    REFORMFLOW_SESSION_HOURS (12) after sign-in (web/session_timeout.py). The cookie's signature
    stops being accepted after those hours too, instead of Flask's 31 days."""
    idle = timedelta(minutes=_whole_number("REFORMFLOW_IDLE_MINUTES", 30, least=1, zh="分钟数（正整数）",
                                           en="a whole number of minutes", example=30))
    longest = timedelta(hours=_whole_number("REFORMFLOW_SESSION_HOURS", 12, least=1, zh="小时数（正整数）",
                                            en="a whole number of hours", example=12))
    app.config.update({session_timeout.IDLE: idle, session_timeout.LONGEST: longest,
                       "PERMANENT_SESSION_LIFETIME": longest})


def _behind_proxies(app: Flask) -> None:
    """REFORMFLOW_PROXIES=N: N reverse proxies stand in front, so take the client's address, the
    scheme (https), the host and a path prefix from the last N X-Forwarded-* values. Without it
    the headers are ignored: a client talking to the app directly could forge them."""
    if n := _whole_number("REFORMFLOW_PROXIES", 0, least=0, zh="代理的层数", en="the number of proxies", example=1):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
