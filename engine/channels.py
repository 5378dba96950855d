"""How a person acted, recorded on each audit event they cause (QA auditor finding 9): through
the web inbox, the JSON API (with the id of the token, never its secret), the command line, or
the timer worker (timers, mail: 系统). An `Engine` is bound to its channel (`Engine.via`): the
web binds each request's, the command line and the worker their own; `audit.AuditLog` writes it
into the event and its hash. Events written before migration 0025 have none: 未记录, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass

WEB, API, CLI, WORKER = "web", "api", "cli", "worker"
KINDS = (WEB, API, CLI, WORKER)
_ZH = {WEB: "网页", API: "接口", CLI: "命令行", WORKER: "系统"}
_EN = {WEB: "web", API: "API", CLI: "command line", WORKER: "system"}
NOT_RECORDED = ("未记录", "not recorded")


@dataclass(frozen=True)
class Channel:
    kind: str
    token_id: int | None = None  # the API token the request came with (api only)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown channel {self.kind!r}")


WEB_CHANNEL, CLI_CHANNEL, WORKER_CHANNEL = Channel(WEB), Channel(CLI), Channel(WORKER)


def said(kind: str | None, token_id: int | None, language: str = "zh") -> str:
    """The channel as a trail shows it: 网页, 接口（令牌 3）, 命令行, 系统, or 未记录 for an event
    written before channels were recorded. `language` "both": Chinese with the English in brackets."""
    if language == "both":
        return f"{said(kind, token_id, 'zh')} ({said(kind, token_id, 'en')})"
    zh = language == "zh"
    if kind is None:
        return NOT_RECORDED[0 if zh else 1]
    name = (_ZH if zh else _EN).get(kind, kind)
    if kind == API and token_id is not None:
        return f"{name}（令牌 {token_id}）" if zh else f"{name} (token {token_id})"
    return name
