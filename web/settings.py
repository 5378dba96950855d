"""The REFORMFLOW_* environment variables reformflow reads, and a warning at start-up about any
other: a misspelt name (REFORMFLOW_SECURE_COOKIE, the S missing) is otherwise silently ignored,
and the setting it was meant to be silently left at its default. docs/operations.md, section 2a."""
from __future__ import annotations

import difflib
import os

KNOWN = frozenset({
    "REFORMFLOW_DATABASE_URL", "REFORMFLOW_SECRET_KEY", "REFORMFLOW_PROXIES", "REFORMFLOW_SECURE_COOKIES",
    "REFORMFLOW_IDLE_MINUTES", "REFORMFLOW_SESSION_HOURS", "REFORMFLOW_BASE_URL", "REFORMFLOW_DIGEST_TIME",
    "REFORMFLOW_SMTP_HOST", "REFORMFLOW_SMTP_PORT", "REFORMFLOW_SMTP_SECURITY", "REFORMFLOW_SMTP_STARTTLS",
    "REFORMFLOW_SMTP_USER", "REFORMFLOW_SMTP_PASSWORD", "REFORMFLOW_SMTP_FROM", "REFORMFLOW_SMTP_TIMEOUT",
})
# read by the test suite and the tools of this checkout, not by a running reformflow: not warned of
DEVELOPMENT = frozenset({
    "REFORMFLOW_TEST_POSTGRES_URL", "REFORMFLOW_REQUIRE_POSTGRES", "REFORMFLOW_REQUIRE_BROWSER",
    "REFORMFLOW_REQUIRE_MODELER", "REFORMFLOW_CHROMIUM",
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
