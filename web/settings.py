"""The web's settings from REFORMFLOW_* environment variables (`apply`: the session cookie, the
session's limits, the proxies in front; a wrong value stops the start-up in one line), and a
warning at start-up about any REFORMFLOW_* variable reformflow does not read: a misspelt name
(REFORMFLOW_SECURE_COOKIE, the S missing) is otherwise silently ignored, and the setting it was
meant to be silently left at its default. docs/operations.md, section 2a."""
from __future__ import annotations

import difflib
import os
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import session_timeout
from .whole_numbers import whole_number

KNOWN = frozenset({
    "REFORMFLOW_DATABASE_URL", "REFORMFLOW_SECRET_KEY", "REFORMFLOW_PROXIES", "REFORMFLOW_SECURE_COOKIES",
    "REFORMFLOW_IDLE_MINUTES", "REFORMFLOW_SESSION_HOURS", "REFORMFLOW_BASE_URL", "REFORMFLOW_DIGEST_TIME",
    "REFORMFLOW_SMTP_HOST", "REFORMFLOW_SMTP_PORT", "REFORMFLOW_SMTP_SECURITY", "REFORMFLOW_SMTP_STARTTLS",
    "REFORMFLOW_SMTP_USER", "REFORMFLOW_SMTP_PASSWORD", "REFORMFLOW_SMTP_FROM", "REFORMFLOW_SMTP_TIMEOUT",
})
# read by the test suite and the tools of this checkout, not by a running reformflow: not warned of
DEVELOPMENT = frozenset({
    "REFORMFLOW_TEST_POSTGRES_URL", "REFORMFLOW_REQUIRE_POSTGRES", "REFORMFLOW_REQUIRE_BROWSER",
    "REFORMFLOW_REQUIRE_MODELER", "REFORMFLOW_CHROMIUM", "REFORMFLOW_TEST_TODAY",
})


def unknown(env=None) -> list[tuple[str, str | None]]:
    """Each REFORMFLOW_* variable set that reformflow does not read, with the known one closest to
    it (None if none is close), by name."""
    env = os.environ if env is None else env
    found = []
    for name in sorted(env):
        if name.startswith("REFORMFLOW_") and name not in KNOWN and name not in DEVELOPMENT:
            close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.75)
            found.append((name, close[0] if close else None))
    return found


def warning_lines(env=None) -> list[str]:
    lines = []
    for name, close in unknown(env):
        guess_zh = f"，是否应为 {close}？" if close else ""
        guess_en = f": did you mean {close}?" if close else ""
        lines.append(f"reformflow: 未知的环境变量 {name}，已忽略{guess_zh} (unknown environment variable {name}, "
                     f"ignored{guess_en})")
    return lines


def apply(app: Flask) -> None:
    """The settings of the session cookie, the session's limits and the proxies in front, from the
    environment. A wrong value raises SettingError; under gunicorn it is said in one line and the
    worker stops instead (see _stop_gunicorn_worker)."""
    try:
        _serve_over_https(app)
        _session_limits(app)
        _behind_proxies(app)
    except SettingError as exc:
        _stop_gunicorn_worker(exc)
        raise


# the example value docs/operations.md once showed: a key anyone can read signs anyone's session
PLACEHOLDER_KEYS = frozenset({"4b8e…64 hex digits…"})
SHORTEST_KEY = 32
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def secret_key(app: Flask) -> str:
    """The key that signs the session cookie and the forms' CSRF tokens: REFORMFLOW_SECRET_KEY,
    else one kept in instance/web_secret_key. A key someone could guess (short, or the example of
    docs/operations.md) would let them sign a cookie as anyone, so it stops the start-up like any
    wrong setting; so does an instance/ the key cannot be written to."""
    try:
        given = os.environ.get("REFORMFLOW_SECRET_KEY", "")
        key = given.strip()
        if not key:
            return _kept_key(Path(app.instance_path) / "web_secret_key")
        if key in PLACEHOLDER_KEYS or len(key) < SHORTEST_KEY:
            why = ("是文档中的示例，人人可见 (is the documentation's example, which anyone can read)"
                   if key in PLACEHOLDER_KEYS else
                   f"只有 {len(key)} 个字符，至少须 {SHORTEST_KEY} 个 (has {len(key)} characters, at least "
                   f"{SHORTEST_KEY} are needed)")
            raise SettingError(f"REFORMFLOW_SECRET_KEY {why}；请用 {MAKE_KEY} 生成一个 (make one with {MAKE_KEY})")
        return given  # as before: the key in use now keeps everyone signed in
    except SettingError as exc:
        _stop_gunicorn_worker(exc)
        raise


def _kept_key(path: Path) -> str:
    """A key kept in instance/: sessions survive a restart of `make run`. Several web workers behind
    a load balancer must share one: set REFORMFLOW_SECRET_KEY (docs/operations.md)."""
    try:
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
    except OSError as exc:  # a service user in a folder it cannot write: one line, not a traceback
        raise SettingError(
            f"无法保存网页密钥 {path}：{exc.strerror}；请设置 REFORMFLOW_SECRET_KEY，或让运行用户可写 {path.parent} "
            f"(cannot keep the web's key in {path}: {exc.strerror}; set REFORMFLOW_SECRET_KEY, or make "
            f"{path.parent} writable by the user the web runs as)") from None


class SettingError(ValueError):
    """A REFORMFLOW_* setting with a value it cannot have: the web workers do not start."""


_warned: list[bool] = []


def warn_of_unknown(app: Flask) -> None:
    """Once per process, in the log: each REFORMFLOW_* variable reformflow does not read, with the
    known name closest to it (REFORMFLOW_SECURE_COOKIE was silently ignored)."""
    if _warned:
        return
    _warned.append(True)
    lines = warning_lines()
    if lines and _first_gunicorn_worker("unknown-settings"):  # not once per worker
        for line in lines:
            app.logger.warning(line)


def _first_gunicorn_worker(what: str) -> bool:
    """Whether this process is the first of its gunicorn's workers to get here (True outside
    gunicorn): a mark named after the gunicorn master in the temporary folder, made by one alone."""
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
    if (number := whole_number(raw)) is None or number < least:
        raise SettingError(f"{name}={raw!r}: 须为{zh}，如 {example} (must be {en}, e.g. {example})")
    return number


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
