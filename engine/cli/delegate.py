"""Delegation: a colleague handles one's tasks while one is away; set, listed and ended."""
from __future__ import annotations

import click

from .params import ID, Day, acting_user
from .shared import _emit, command, main
from .show import _local


@main.group()
def delegate():
    """委托办理：外出期间由同事代为办理待办 (delegation: a colleague handles one's tasks while one is away)."""


@command(delegate, "add")
@click.argument("principal")
@click.option("--to", "to", required=True, help="受托人，代为办理的同事 (the delegate: who acts for them).")
@click.option("--from", "starts", type=Day(), required=True, metavar="DATE",
              help="第一天 YYYY-MM-DD（北京时间） (the first day, Beijing date).")
@click.option("--until", "ends", type=Day(), required=True, metavar="DATE",
              help="最后一天 YYYY-MM-DD，含当日 (the last day, included).")
@click.option("--reason", required=True, help="事由，如 出差、休假、学习 (the reason, e.g. a business trip).")
@acting_user()
def delegate_add(state, as_json, principal, to, starts, ends, reason, actor):
    """设置委托：期间受托人可认领、办理委托人的待办，留痕注明「代」谁；由委托人本人或改革办设置 (set a delegation:
    meanwhile the delegate claims and completes the principal's tasks, each recorded as on their behalf; set by the
    principal or the reform office)."""
    result = state.engine.delegate(principal, to=to, starts_on=starts.date(), ends_on=ends.date(), reason=reason,
                                   actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已设置委托 {d['id']} (delegation set)：{_delegation_line(d)}"))


_DELEGATION_STATES = {"in_force": "生效中 in force", "upcoming": "未开始 upcoming", "over": "已到期 over",
                      "ended": "已结束 ended"}


def _delegation_line(d: dict) -> str:
    ended = f"，{_local(d['ended_at'])} 由 {d['ended_by']} 结束 (ended)" if d["ended_at"] else ""
    return (f"{d['principal']} → {d['delegate']} {d['starts_on']} 至 (to) {d['ends_on']}「{d['reason']}」"
            f"[{_DELEGATION_STATES[d['state']]}]{ended}")


@command(delegate, "list")
@acting_user()
@click.option("--user", help="改革办查看某人的委托 (the reform office: another person's).")
@click.option("--all", "everyone", is_flag=True, help="改革办查看全部生效中和未开始的委托 (the reform office: all "
                                                       "delegations in force or upcoming).")
def delegate_list(state, as_json, actor, user, everyone):
    """列出 --as 本人委托他人的和受托的委托 (list the delegations --as gave and received)."""
    result = {"delegations": state.engine.delegations(actor, user=user, everyone=everyone)}

    def human(d):
        if not d["delegations"]:
            click.echo("没有委托 (no delegations)")
        for row in d["delegations"]:
            click.echo(f"{row['id']} {_delegation_line(row)}")
    _emit(result, as_json, human)


@command(delegate, "end")
@click.argument("delegation_id", type=ID)
@acting_user()
def delegate_end(state, as_json, delegation_id, actor):
    """提前结束委托，即时生效；由委托人、受托人或改革办结束 (end a delegation now: its principal, its delegate or the
    reform office)."""
    result = state.engine.end_delegation(delegation_id, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已结束委托 {d['id']} (delegation ended)：{_delegation_line(d)}"))
