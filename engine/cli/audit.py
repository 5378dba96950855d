"""The audit trail: exporting it, anchoring its hash chain's tip, and verifying the chain."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import display
from ..output import whole_file
from .params import PLAN, acting_user
from .shared import _emit, command, main


@main.group()
def audit():
    """审计记录 (the audit trail)."""


@command(audit, "export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]),
              help="导出格式，默认 jsonl；--output 以 .csv 结尾时为 csv (export format; default jsonl, csv for an --output ending in .csv).")
@click.option("--instance", "instance_id", type=PLAN, help="只导出此方案的事件，编号或业务编号 (only this plan's events: id or business key).")
@click.option("--output", type=click.Path(dir_okay=False), help="写入的文件，默认标准输出 (file to write; default: standard output).")
@acting_user(operator=True)
def audit_export(state, as_json, fmt, instance_id, output, actor):
    """导出审计事件，含全部字段，可重算每个哈希 (export audit events, every field, so each hash can be recomputed).

    --json 且无 --output：标准输出一个 JSON 文档 {"events": [...]} (one JSON document on standard output).
    每次导出都记入审计记录 (audit_exported) (every export is recorded on the trail)."""
    from ..audit import ExportCheck, export, record_export
    from ..errors import Invalid
    if fmt is None:  # a file named .csv is opened by Excel: JSON lines in it would be one column of braces
        fmt = "csv" if output and output.lower().endswith(".csv") else "jsonl"
    if as_json and not output and fmt == "csv":
        raise Invalid("--json 输出 JSON，不能同时输出 CSV；CSV 请用 --output 写入文件"
                      " (--json prints JSON: write CSV with --output FILE)")
    if actor != "system":  # a known, active user before anything is written, as for every --as
        with state.engine.command(actor) as ctx:
            state.engine._member(ctx, actor)
    last: dict = {}
    check = ExportCheck(whole=instance_id is None)  # the events are read anyway: a broken chain is told
    with state.db.reader() as s:
        if output:
            with whole_file(output, "审计记录", "audit export") as out:
                if fmt == "csv":
                    out.write("\ufeff")  # the byte-order mark Excel needs to read Chinese, as in the ledger's .csv
                count = export(s, out, fmt, instance_id, last=last, check=check)
        else:
            count = export(s, _Stdout(), "json" if as_json else fmt, instance_id, last=last, check=check)
    # who took a copy of the trail, and of what, is on the trail (QA auditor finding 10)
    record_export(state.engine, actor, "json" if as_json and not output else fmt, instance_id, count, last or None, "cli",
                  check)
    broken = check.broken()
    if broken is not None:
        # the export of a broken trail is evidence, kept; whoever took it must hear that it is broken
        zh, en, n = broken.pop("zh"), broken.pop("en"), broken["events"]
        broken["message"] = f"{zh} ({en})"
        click.echo(f"reformflow: 警告：审计记录已损坏，首个问题：{zh}（共 {n} 处）；导出已照常写入，请作为证据保存，"
                   f"并运行 reformflow audit verify 查明全部问题及处理办法 (warning: the audit trail is broken, first: {en} "
                   f"({n} in all); the export was written all the same: keep it as evidence, and run "
                   f"reformflow audit verify for every problem and what to do)", err=True)
    if output:
        _emit({"events": count, "output": output, "broken": broken}, as_json,
              lambda d: click.echo(f"已写入 {d['events']} 个事件到 {d['output']} ({d['events']} events written)", err=True))


class _Stdout:
    """Standard output as a file for csv/json writers, through click.echo (which handles the
    encoding and the test runner) instead of the deprecated click.get_text_stream."""

    @staticmethod
    def write(text: str) -> None:
        click.echo(text, nl=False)


@command(audit, "anchor")
@click.option("--output", type=click.Path(dir_okay=False), help="写入的文件，默认标准输出 (file to write; default: standard output).")
@acting_user()
def audit_anchor(state, as_json, output, actor):
    """为哈希链末端记录锚点，由审计人员保存在数据库之外 (record an anchor of the chain's tip to keep outside the database).

    Prints {"seq", "hash", "recorded_at", "events", "database"}; `audit verify --anchor FILE`
    later proves nothing up to that event was cut or rewritten. Refused on a broken chain, and
    to anyone but an auditor or a reform office member (--as, required: who anchored is said)."""
    from ..audit import public_url, verify
    state.engine.may_anchor(actor)  # before the walk of the whole chain: refused at once
    with state.db.reader() as s:
        checked = verify(s)
    if not checked.ok:
        for p in checked.problems:
            click.echo(p, err=True)
        click.echo(f"reformflow: 审计记录已损坏，不能锚定 (audit trail broken, not anchored): "
                   f"{len(checked.problems)} problem(s)", err=True)
        sys.exit(1)

    def record() -> dict:  # recorded as who anchored: an auditor or the reform office
        return state.engine.anchor(actor=actor, database=public_url(state.db.url))
    if output:
        # the file is begun before the anchor is recorded: no anchor in the trail that could not be kept
        with whole_file(output, "锚点", "anchor") as out:
            document = record()
            out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        _emit(document | {"output": output}, as_json,
              lambda d: click.echo(f"事件 {d['seq']} 的锚点已写入 {d['output']}，请保存在数据库之外 (anchor of event "
                                   f"{d['seq']} written: keep it outside the database)", err=True))
    else:
        click.echo(json.dumps(record(), ensure_ascii=False, indent=2))  # the document itself, with or without --json


class _VerifyProgress:
    """Progress of a long verify on standard error (stdout stays the result): a line each
    EVERY events, so a chain checked within a second or two prints none."""
    EVERY = 20_000

    def __init__(self):
        self.shown = 0

    def __call__(self, checked: int, expected: int) -> None:
        if checked - self.shown >= self.EVERY:
            self.shown = checked
            click.echo(f"校验中 (verifying)：{checked}/{expected} 个事件 (events)，{checked * 100 // expected}%", err=True)

    FILE_BYTES = 256 * 1024 * 1024  # a line each 256 MB of files read: several seconds on PostgreSQL
    files_shown = 0

    def files(self, checked: int, expected: int, read: int, total: int) -> None:
        if read - self.files_shown >= self.FILE_BYTES:
            self.files_shown = read
            click.echo(f"校验附件中 (checking files)：{checked}/{expected} 个 (files)，{read // 1024 // 1024}/"
                       f"{total // 1024 // 1024} MB，{read * 100 // total}%", err=True)


@command(audit, "verify")
@click.option("--anchor", "anchor_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="`audit anchor` 写出的锚点文件，可重复 (an anchor written by `audit anchor`, repeatable).")
def audit_verify(state, as_json, anchor_files):
    """校验整条哈希链和每个锚点，全部完好才返回 0 (check the whole hash chain and each anchor; exit 0 only if all is intact)."""
    from ..audit import read_anchor, verify
    from ..audit_checks import latest_intact
    from ..errors import Invalid
    anchors = []
    for path in anchor_files:
        try:
            anchors.append(read_anchor(Path(path).read_text(encoding="utf-8"), source=path))
        except ValueError as exc:
            raise Invalid(f"{path}: {exc}") from None
    with state.db.reader() as s:
        shown = _VerifyProgress()
        # the web's checks (audit_checks) are an anchor the database kept: compared with always,
        # as an anchor older than the last check does not cover what it saw
        result = verify(s, anchors=anchors, progress=shown, file_progress=shown.files, earlier=latest_intact(s))

    def human(d):
        if d["ok"]:
            files = f"，{d['files']} 个附件与上传记录相符 ({display.counted(d['files'], 'file')} checked)" if d["files"] else ""
            click.echo(f"审计记录完好 (audit trail intact)：{d['events']} 个事件{files}，末端哈希 (head) {d['head_hash']}")
        for p in d["problems"]:
            click.echo(p)
        for a in d["anchors"]:
            if a["status"] == "ok":
                click.echo(f"锚点 {a['source']} 相符：事件 {a['seq']} 未被改动，其后追加了 "
                           f"{a['appended_after']} 个事件 (anchor matches event {a['seq']}; "
                           f"{a['appended_after']} event(s) appended since)")
        if (earlier := d["earlier"]) and d["ok"]:  # a broken trail: that event alone proves little
            click.echo(f"与上次校验（{display.minute(earlier['finished_at'])}，{earlier['requested_by_name'] or earlier['requested_by']}）相符：事件 {earlier['events']} "
                       f"未被改动，其后追加了 {earlier['appended_after']} 个事件 (matches the last check, "
                       f"{display.minute(earlier['finished_at'])}, by {earlier['requested_by']}: event {earlier['events']} "
                       f"unchanged; {earlier['appended_after']} event(s) appended since)")
        for n in d["notes"]:
            click.echo(f"注意 (note): {n}")
    _emit(result.to_dict(), as_json, human)
    if not result.ok:
        click.echo(f"reformflow: 审计记录已损坏 (audit trail broken: {len(result.problems)} problem(s))", err=True)
        click.echo(BROKEN_ADVICE, err=True)
        sys.exit(1)


@command(audit, "events")
@click.option("--type", "kind", metavar="TYPE", help="只列此类事件，如 user_changed、token_created、deployed "
                                                     "(only events of this type, e.g. user_changed, token_created, deployed).")
@click.option("--since", metavar="DATE", help="自此日起（北京时间，含当日），如 2026-03-01 (from this Beijing day on, included).")
@click.option("--until", metavar="DATE", help="至此日止（北京时间，含当日） (up to this Beijing day, included).")
@click.option("--before", metavar="SEQ", help="只列编号小于此数的事件：上一页末尾给出的「更早」 "
                                              "(only events numbered below SEQ: the next page, as the last one says).")
@click.option("--limit", metavar="N", help="每页条数，默认 50，至多 200 (events a page; 50 by default, at most 200).")
def audit_events(state, as_json, kind, since, until, before, limit):
    """不属于任何方案的事件，最新的在前：部署、用户、令牌、日历、登录、审计导出和锚点等
    (the events of no plan, newest first: deploys, users, tokens, the calendar, sign-ins, audit exports and anchors)."""
    from .. import channels
    from ..planless import checked_filters, planless_events
    from ..trail_text import not_intact, said
    filters = checked_filters(kind, since, until, before, limit)
    with state.db.reader() as s:
        result = planless_events(s, **filters)

    def human(d):
        if not d["events"]:
            click.echo("没有符合条件的事件 (no such events)")
        for e in d["events"]:
            who = f"{display.then_and_now(e['actor_name'], e.get('actor_name_now'))} ({e['actor']})" if e["actor_name"] else \
                "系统 (system)" if e["actor"] == "system" else e["actor"]
            click.echo(f"  {e['seq']}  {display.minute(e['occurred_at'])}  {who}  "
                       f"[{channels.said(e['channel'], e['token_id'], 'both')}]  {said(e)}")
            click.echo(f"    {json.dumps(e['payload'], ensure_ascii=False, sort_keys=True)}")
            if not e["intact"]:
                click.echo(f"    {not_intact()}")
        if d["next_before"]:
            click.echo(f"更早的事件 (older events)：reformflow audit events --before {d['next_before']}"
                       + "".join(f" --{k} {v}" for k, v in (("type", kind), ("since", since), ("until", until), ("limit", limit)) if v))
    _emit(result, as_json, human)


# What follows a broken trail, for whoever runs the check: the evidence first, then the repair.
BROKEN_ADVICE = (
    "请保持数据库原样：不要修复、删改任何记录，以免毁掉证据，并请系统管理员先复制保存一份数据库（SQLite 连同其 -wal 文件，"
    "PostgreSQL 用 pg_dump）。将上面列出的事件与此前导出保存的审计记录（audit export 的文件）和锚点（audit verify "
    "--anchor）核对，查明改动了什么、从何时起。立即报告系统管理员和改革办负责同志。证据保全之后，才可从备份恢复。"
    "(Keep the database as it is: do not repair, edit or delete any record, which would destroy the evidence, and have "
    "the system administrator take a copy of it first (SQLite with its -wal file; PostgreSQL with pg_dump). Compare the "
    "events named above with the audit exports kept earlier (audit export files) and your anchors (audit verify "
    "--anchor) to find what was changed and since when. Report it at once to the system administrator and the reform "
    "office's leadership. Restore from a backup only after the evidence is secured.)")
