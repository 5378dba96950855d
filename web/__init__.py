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
REFORMFLOW_IDLE_MINUTES and REFORMFLOW_SESSION_HOURS (when a session ends by itself), read
in web/settings.py.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from jinja2 import BytecodeCache

from engine.commands import Engine
from models.db import Database

from . import current, error_pages, i18n, input_guard, names, security_headers, session_timeout, settings
from .row_ids import RowId

HERE = Path(__file__).resolve().parent


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once a process, for every app created in it: the tests create one a
    test, and compiling the pages again each time took a sixth of a browser test. A template
    whose source changed is compiled anew (the checksum differs)."""

    def __init__(self):
        self._code: dict[str, tuple] = {}

    def load_bytecode(self, bucket):
        checksum, code = self._code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = (bucket.checksum, bucket.code)


_COMPILED = _CompiledTemplates()


def create_app(database_url: str | None = None, *, engine: Engine | None = None,
               secret_key: str | None = None, testing: bool = False) -> Flask:
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    settings.warn_of_unknown(app)
    app.url_map.converters["int"] = RowId  # before any route is added
    app.config.update(
        SECRET_KEY=secret_key or settings.secret_key(app),  # a guessable key stops the start-up
        TESTING=testing,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,  # engine/documents.py refuses files over 20 MB with its own message
    )
    settings.apply(app)  # from the environment; a wrong value stops the start-up in one line
    if engine is None:  # a server of its own (gunicorn): not on a schema this code was not written for
        engine = Engine(Database(database_url, create=False))
        if (refusal := engine.db.schema_refusal()) is not None:
            raise settings.SettingError(refusal)
    app.extensions[current.KEY] = engine
    app.jinja_env.bytecode_cache = _COMPILED
    Babel(app, locale_selector=i18n.locale)
    csrf = CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "auth.login"
    login.login_message = None  # the login page says what to do itself
    from . import signed_out
    login.unauthorized_handler(signed_out.answer)  # a session ended elsewhere: say so, keep a step's form

    from . import auth, inbox, plans
    login.user_loader(auth.load_user)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(plans.bp)
    from . import analyst; app.register_blueprint(analyst.bp)  # noqa: E702
    from . import auditor; app.register_blueprint(auditor.bp)  # noqa: E702
    from . import office; app.register_blueprint(office.bp)  # noqa: E702
    from . import reports; app.register_blueprint(reports.bp)  # noqa: E702
    from . import people; app.register_blueprint(people.bp)  # noqa: E702
    from . import people_import; app.register_blueprint(people_import.bp)  # noqa: E702
    from . import mail; app.register_blueprint(mail.bp)  # noqa: E702
    from . import api; app.register_blueprint(api.bp)  # noqa: E702
    csrf.exempt(api.bp)  # a bearer token, never the session cookie: nothing for another site to forge
    from . import health; app.register_blueprint(health.bp)  # noqa: E702 - GET /healthz, no sign-in
    i18n.install(app)
    names.install(app)
    error_pages.install(app)
    health.install(app)  # the database unreachable: 503 and one log line, not a 500 with a traceback
    security_headers.install(app)
    input_guard.install(app)  # no NUL character in a form field or the query: PostgreSQL keeps none
    session_timeout.install(app)
    return app

