"""Personal access tokens of the JSON API: created, listed (never their secrets) and revoked."""
from __future__ import annotations

import click

from .. import display
from .params import ID, Day, acting_user
from .shared import _emit, command, main


@main.group()
def tokens():
    """管理 JSON API 的个人访问令牌 (manage personal access tokens of the JSON API)."""


@command(tokens, "add")
@click.argument("name")
@acting_user()
@click.option("--expires", type=Day(), metavar="DATE",
              help="有效期的最后一天 YYYY-MM-DD，至当日 24 时（北京时间）；不填则长期有效，直至撤销 "
                   "(the last day it is valid, to the end of that day, Beijing time; without it, until revoked).")
def tokens_add(state, as_json, name, actor, expires):
    """创建访问令牌：密钥只显示这一次，请立即妥善保存 (create an access token: its secret is shown this once only)."""
    result = state.engine.create_token(actor, name, expires.date() if expires else None)

    def human(d):
        until = f"有效至 {display.deadline(d['expires_at'])} (valid through that day)" if d["expires_at"] \
            else "长期有效，直至撤销 (valid until revoked)"
        click.echo(f"已创建访问令牌 {d['id']}「{d['name']}」，{until} (token created)")
        click.echo(f"密钥 (secret)：{d['secret']}")
        click.echo("密钥只显示这一次，请立即复制保存；用法：Authorization: Bearer <密钥>，见 docs/api.md "
                   "(the secret is shown this once only: copy it now; send it as Authorization: Bearer <secret>)")
    _emit(result, as_json, human)


_TOKEN_STATES = {"active": "有效 active", "revoked": "已撤销 revoked", "expired": "已过期 expired"}


@command(tokens, "list")
@acting_user()
@click.option("--user", "owner", help="改革办查看他人的令牌 (the reform office: another person's tokens).")
def tokens_list(state, as_json, actor, owner):
    """列出访问令牌（不含密钥） (list access tokens, never their secrets)."""
    result = {"tokens": state.engine.tokens(actor, owner=owner)}

    def human(d):
        if not d["tokens"]:
            click.echo("没有访问令牌 (no tokens)")
        for t in d["tokens"]:
            until = display.deadline(t["expires_at"]) if t["expires_at"] else "—"
            used = display.minute(t["last_used_at"]) if t["last_used_at"] else "从未使用 (never)"
            # a revoked or expired token something still sends (token_refused): its owner should look
            refused = f"，失效后仍有人使用 (still sent after it ended) {display.minute(t['refused_at'])}" \
                if t["refused_at"] else ""
            click.echo(f"{t['id']}「{t['name']}」{t['username']} [{_TOKEN_STATES[t['state']]}] "
                       f"创建于 (created) {display.minute(t['created_at'])}，有效至 (expires) {until}，"
                       f"最近使用 (last used) {used}{refused}")
    _emit(result, as_json, human)


@command(tokens, "revoke")
@click.argument("token_id", type=ID)
@acting_user()
def tokens_revoke(state, as_json, token_id, actor):
    """撤销访问令牌，即时生效；由其所有者或改革办撤销 (revoke an access token, at once: its owner or the reform
    office)."""
    result = state.engine.revoke_token(actor, token_id)
    _emit(result, as_json, lambda d: click.echo(f"已撤销访问令牌 {d['id']}「{d['name']}」 (token revoked)"))
