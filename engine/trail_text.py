"""One event of a plan's trail said in a line, in Chinese, in English, or in both as the command
line prints it (Chinese with the English words in brackets: `认领 (claimed) 合法合规性审查`).

The web page speaks one language at a time; the terminal keeps its bilingual lines, which
tests and people's scripts read. Names from the diagram (steps, form labels, option names) and
from the directory (people, groups, units) are shown as they were written, in every language.

    said(event)          # the command line's line
    said(event, "zh")    # 认领 合法合规性审查
    said(event, "en")    # claimed 合法合规性审查

Dates are ISO (2026-12-25) in every language unless the caller asks for a Chinese page's:
`said(event, "zh", chinese_dates=True)` writes 2026年12月25日 as the page's other dates read. The
command line, the CSV export of the audit trail and the JSON API keep ISO, which scripts read.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from . import display

LANGUAGES = ("zh", "en", "both")
# Chinese punctuation and its English counterpart, for the joins between the parts of a line
_PUNCTUATION = {"：": ": ", "，": ", ", "；": "; ", "、": ", "}

# the kinds of event that belong to no plan (engine/planless.py), named as the auditor's filter
# offers them: (Chinese, English). A line of such an event starts with the same name, except where
# its saying below words it for the line (_deployed, _token_refused, _calendar_changed,
# _mail_retried).
NO_PLAN_KINDS = {
    "deployed": ("部署流程", "process deployed"),
    "user_added": ("添加用户", "user added"),
    "user_changed": ("修改用户", "user changed"),
    "user_deactivated": ("停用用户", "user deactivated"),
    "user_reactivated": ("重新启用用户", "user reactivated"),
    "password_set": ("修改密码", "password changed"),
    "password_reset": ("重设密码", "password reset"),
    "group_added": ("添加角色", "group added"),
    "token_created": ("创建访问令牌", "access token created"),
    "token_revoked": ("撤销访问令牌", "access token revoked"),
    "token_refused": ("拒绝访问令牌", "access token refused"),
    "calendar_changed": ("工作日日历", "working-day calendar"),
    "delegation_created": ("委托办理", "delegation set"),
    "delegation_ended": ("结束委托", "delegation ended"),
    "mail_retried": ("重发邮件", "mail retried"),
    "audit_verified": ("校验审计记录", "audit trail verified"),
    "audit_exported": ("导出审计记录", "audit trail exported"),
    "audit_anchored": ("记录锚点", "audit trail anchored"),
    "signed_in": ("登录", "signed in"),
    "sign_in_refused": ("拒绝登录", "sign-in refused"),
    "password_change_refused": ("拒绝修改密码", "password change refused"),
    "signed_out": ("退出登录", "signed out"),
    "session_expired": ("登录过期", "session expired"),
}


class _Wording:
    """The words of one language: `w(zh, en)` is the Chinese, the English, or `zh (en)`."""

    def __init__(self, language: str, chinese_dates: bool = False):
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")
        self.language = language
        # dates as a Chinese page writes them: only for a line in Chinese alone, the web's
        self.chinese_dates = chinese_dates and language == "zh"

    def deadline(self, value: str) -> str:
        """A deadline: ISO, or 2026年12月25日 on a Chinese page (engine/display.py)."""
        return display.deadline(value, self.chinese_dates)

    def day(self, value) -> str:
        """A date (2026-12-25, 2026年12月25日); a value that is not one as it is."""
        return display.day_or_as_is(value, self.chinese_dates)

    def __call__(self, zh: str, en: str, both: str | None = None) -> str:
        if self.language == "zh":
            return zh
        if self.language == "en":
            return en
        return f"{zh} ({en})" if both is None else both

    def mark(self, zh: str) -> str:
        """Punctuation between parts: Chinese (the command line's too) or English."""
        return _PUNCTUATION.get(zh, zh) if self.language == "en" else zh

    def aside(self, text: str) -> str:
        """Words in brackets after what they qualify: （…） in Chinese, (…) in English."""
        return f" ({text})" if self.language == "en" else f"（{text}）"


def said(e: dict, language: str = "both", chinese_dates: bool = False) -> str:
    """One event of a plan's trail (engine/history.py plan_history), said in a line; its dates
    ISO unless `chinese_dates` (a Chinese web page: 2026年12月25日)."""
    w = _Wording(language, chinese_dates)
    p = e["payload"]
    name = display.step(e["name"] or p.get("element_id") or "-", e.get("subject"))
    kind = e["event_type"]
    wording = _SAYINGS.get(kind)
    return wording(w, e, p, name) if wording else kind


def not_intact(language: str = "both") -> str:
    """What a line of the trail whose event no longer matches its hash (engine/history.py `intact`)
    says under it: its content may have been changed in the database, so it is not shown as fact."""
    zh = "此记录与其哈希不符，可能被改动，请勿采信，并请审计人员核查"
    en = "this record does not match its hash: it may have been changed; do not rely on it, and have an auditor check it"
    return "⚠ " + _Wording(language)(zh, en[:1].upper() + en[1:], f"{zh} ({en})")


def off_clock(e: dict, language: str = "both") -> str | None:
    """What a line of the trail whose event was written at a time far from the one it states
    (engine/history.py `off_clock`: a date given with --now, a fixed clock) says under it: when it
    was really entered. Later than stated: 补录 (entered later); earlier: 预录 (dated ahead)."""
    if not e.get("off_clock"):
        return None
    w = _Wording(language)
    at_zh = display.minute(e["recorded_at"], chinese=language == "zh")
    at_en = display.minute(e["recorded_at"])
    if datetime.fromisoformat(e["recorded_at"]) >= datetime.fromisoformat(e["occurred_at"]):
        return w(f"补录：实际录入于 {at_zh}", f"Entered later, at {at_en}", f"补录：实际录入于 {at_en} (entered later, at {at_en})")
    return w(f"预录：实际录入于 {at_zh}，早于所记时间", f"Dated ahead: entered at {at_en}, before the time it states",
             f"预录：实际录入于 {at_en}，早于所记时间 (dated ahead: entered at {at_en}, before the time it states)")


def _started(w, e, p, name):
    # a page names the process as its diagram does, where known (engine/history.py); the command
    # line keeps the key a deploy and `reformflow start` use
    if w.language == "zh":
        return f"发起方案「{e['name']}」（第 {p.get('version')} 版）" if e.get("name") else \
            f"发起方案 {p.get('key')}（第 {p.get('version')} 版）"
    if w.language == "en" and e.get("name"):  # the English page names it too: the key is no reader's word
        return f"started “{e['name']}” (version {p.get('version')})"
    return f"{w('发起方案', 'started')} {p.get('key')} v{p.get('version')}"


def _created(w, e, p, name):
    who = e.get("to_names") or p.get("assignee") or w.mark("、").join(p.get("candidate_groups", []) + p.get("candidate_users", []))
    due = f"{w.mark('，')}{w('期限', 'due')} {w.deadline(p['due_at'])}" if p.get("due_at") else ""
    gone = ""
    if p.get("assignee_inactive"):
        gone = w.mark("；") + w(f"原办理人 {p['assignee_inactive']} 已停用", f"assignee {p['assignee_inactive']} deactivated")
    if p.get("assignee_outside_unit"):  # ${initiator} of another unit: the step is the unit's
        who_was, kept_to = p["assignee_outside_unit"], p.get("candidate_unit")
        gone = w.mark("；") + w(f"原办理人 {who_was} 属{p.get('unit') or '未设单位'}，本任务限{kept_to}",
                                f"assignee {who_was} is outside {kept_to}")
    return f"{w('生成待办', 'task created')} {name}{w.aside(who + due + _guessed(w, p))}{gone}"


def _claimed(w, e, p, name):
    return f"{w('认领', 'claimed')} {name}"


_UNCLAIMED_WHY = {"user_deactivated": ("办理人已停用，交回候选人", "holder deactivated"),
                  "unit_changed": ("办理人已调离本单位，交回候选人", "holder moved to another unit")}


def _unclaimed(w, e, p, name):
    why = _UNCLAIMED_WHY.get(p.get("reason"))
    return f"{w('交回', 'unclaimed')} {name}" + (w.mark("：") + w(*why) if why else "")


def _assigned(w, e, p, name):
    why = w.mark("，") + w("退回本人", "returned") if p.get("reason") == "returned" else ""
    if p.get("candidate_unit"):  # the office gave a step kept to one unit to another unit's member
        kept_to = p["candidate_unit"]
        why += w.mark("，") + w(f"本任务限{kept_to}，指派给{p.get('unit') or '未设单位'}人员", f"outside {kept_to}")
    return f"{w('指派', 'assigned')} {name} → {e.get('to_names') or p.get('new', {}).get('assignee')}{why}"


def _completed(w, e, p, name):
    entered = w.mark("；").join(f"{v['label']} = {_entered(w, v)}" for v in e.get("values", []))
    return f"{w('提交', 'completed')} {name}" + (w.mark("：") + entered if entered else "")


def _cancelled(w, e, p, name):
    stopped = w.aside(w("方案终止", "plan stopped", "方案终止 plan stopped")) if p.get("reason") == "plan_cancelled" else ""
    return f"{w('撤销待办', 'cancelled')} {name}{stopped}"


def _plan_cancelled(w, e, p, name):
    return f"{w('终止方案', 'plan stopped')}{w.mark('：')}{p.get('reason')}"


def _reminded(w, e, p, name):
    to = [f"{w('角色', 'group')} {t.removeprefix('group:')}" if t.startswith("group:") else t for t in p.get("to") or []]
    return f"{w('提醒', 'reminded')} {name}{w.mark('：')}{w.mark('、').join(to) or '-'}"


def _due_changed(w, e, p, name):
    old, new = p.get("old", {}).get("due_at"), p.get("new", {}).get("due_at")
    return (f"{w('期限变更', 'due changed')} {name}{w.mark('：')}{w.deadline(old) if old else '—'} → "
            f"{w.deadline(new) if new else '—'}{_moved_because(w, p)}")


def _timer_fired(w, e, p, name):
    on = w.aside(w(f"{p['on_name']}", f"on {p['on_name']}")) if p.get("on_name") else ""
    return f"{w('定时到期', 'timer fired')} {name}{on}{_late(w, e, p)}"


# a timer fired later than this after it was due says so: the worker was stopped (an audit of
# 6 December 2026 read 「2026-12-17 定时到期 备案期限届满」 with no word that it was due on the 14th)
LATE_AFTER = timedelta(minutes=10)


def _late(w, e, p) -> str:
    """（应于 2026年12月14日 到期，迟 3 天触发） for a timer that fired well after it was due."""
    try:
        due, at = datetime.fromisoformat(p["due"]), datetime.fromisoformat(e["occurred_at"])
        late = at - due
    except (KeyError, TypeError, ValueError):  # no due recorded, or no time (a line said alone)
        return ""
    if late <= LATE_AFTER:
        return ""
    zh, en = display.lateness(late)
    when = w.deadline(p["due"])
    return w.aside(w(f"应于 {when} 到期，迟 {zh}触发", f"due {when}, fired {en} late"))


def _withheld(w, e, p, name):
    """A reminder due before the step's deadline that fired only after it (engine/reminders.py):
    no 「将到期」 reminder, the holder told the step is overdue instead."""
    to = [f"{w('角色', 'group')} {t.removeprefix('group:')}" if t.startswith("group:") else t for t in p.get("to") or []]
    return (f"{w('逾期通知', 'overdue notice')} {name}{w.mark('：')}{w.mark('、').join(to) or '-'}"
            f"{w.aside(w('期限已过，未发送将到期提醒', 'past its deadline: no reminder sent'))}")


def _timer_moved(w, e, p, name):
    return (f"{w('定时改期', 'timer moved')} {name}{w.mark('：')}{w.deadline(p['old']['due'])} → "
            f"{w.deadline(p['new']['due'])}{_moved_because(w, p)}")


def _escalation(w, e, p, name):
    code = "" if w.language == "zh" else w.aside(str(p.get("code")))  # the diagram's code: not for a Chinese page
    on = w.aside(w(f"{p['on_name']}", f"on {p['on_name']}")) if p.get("on_name") else ""
    return f"{w('上报', 'escalation')} {name}{on}{code}"


def _message(w, e, p, name):
    return f"{w('收到消息', 'message')} {name}"


def _signal(w, e, p, name):
    return f"{w('收到信号', 'signal')} {name}"


def _attached(w, e, p, name):
    new = p.get("new") or {}
    return (f"{w('上传附件', 'file attached')} {name}{w.mark('：')}{new.get('file_name')}"
            f"{w.aside('SHA-256 ' + str(new.get('sha256'))[:16] + '…')}")


def _commented(w, e, p, name):
    about = w.aside(w(f"关于 {name}", f"on {name}")) if e.get("task_id") else ""
    unit = w.aside(p["unit"]) if p.get("unit") else ""
    return f"{w('留言', 'comment')}{unit}{about}{w.mark('：')}{(p.get('new') or {}).get('text')}"


def _draft_saved(w, e, p, name):
    new = p.get("new") or {}
    n = len(new.get("fields") or [])
    filled = w(f"已填 {n} 项", f"{n} field filled" if n == 1 else f"{n} fields filled") + (w("，附留言", ", with a comment") if new.get("comment") else "")
    return f"{w('暂存', 'draft saved')} {name}{w.aside(filled)}"


def _urged(w, e, p, name):
    held = w.aside(w(f"办理人 {p['assignee']}", f"held by {p['assignee']}")) if p.get("assignee") else ""
    return f"{w('催办', 'urged')} {name}{held}{w.mark('：')}{p.get('note')}"


def _token_refused(w, e, p, name):
    """A revoked or expired token still sent (engine/tokens.py record_refusal)."""
    why = {"revoked": w("已撤销", "revoked"), "expired": w("已过期", "expired")}.get(p.get("reason"), p.get("reason"))
    return (f"{w('拒绝已失效的访问令牌', 'refused an access token no longer valid')} {p.get('name')}"
            f"{w.aside(str(p.get('username')))}{w.aside(why)}")


def _token(kind: str):
    """An API token made or revoked (engine/tokens.py): its name and whose it is; never in a
    plan's trail (no plan), said for the audit trail's readers."""
    zh, en = NO_PLAN_KINDS[kind]

    def saying(w, e, p, name):
        return f"{w(zh, en)} {(p.get('new') or {}).get('name')}{w.aside(str(p.get('username')))}"
    return saying


def _about_user(kind: str):
    """Something that happened to a user's account or sign-in (no plan): who, and from where
    or why when the trail says it; said for the audit trail's readers."""
    zh, en = NO_PLAN_KINDS[kind]

    def saying(w, e, p, name):
        extra = [str(p[k]) for k in ("address", "reason") if p.get(k)]
        return f"{w(zh, en)} {p.get('username')}" + (w.aside(w.mark("，").join(extra)) if extra else "")
    return saying


def _user_added(w, e, p, name):
    groups = w.mark("、").join(p.get("groups") or []) or "-"
    return (f"{w(*NO_PLAN_KINDS['user_added'])} {p.get('display_name')}{w.aside(str(p.get('username')))}"
            f"{w.mark('：')}{w('角色', 'groups')} {groups}" + (f"{w.mark('，')}{w('单位', 'unit')} {p['unit']}" if p.get("unit") else ""))


def _user_changed(w, e, p, name):
    old, new = p.get("old") or {}, p.get("new") or {}
    changes = w.mark("；").join(f"{field} {_value(old.get(field))} → {_value(new.get(field))}" for field in new)
    return f"{w(*NO_PLAN_KINDS['user_changed'])} {p.get('username')}{w.mark('：')}{changes or '-'}"


def _value(v) -> str:
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "—"
    return "—" if v is None else str(v)


def _group_added(w, e, p, name):
    return f"{w(*NO_PLAN_KINDS['group_added'])} {p.get('display_name')}{w.aside(str(p.get('code')))}"


def _deployed(w, e, p, name):
    return (f"{w('部署流程', 'deployed')} {p.get('name') or p.get('key')} {p.get('key')} v{p.get('version')}"
            f"{w.aside(str(p.get('file')) + ' SHA-256 ' + str(p.get('sha256'))[:16] + '…')}")


def _calendar_changed(w, e, p, name):
    def kind(working):
        if working is None:
            return w("未录入", "not entered")
        return w("工作日", "working day") if working else w("休息日", "day off")
    note = w.aside(p["note"]) if p.get("note") else ""
    return (f"{w('节假日安排', 'calendar')} {w.day(p.get('day'))}{w.mark('：')}{kind((p.get('old') or {}).get('working'))} → "
            f"{kind((p.get('new') or {}).get('working'))}{note}")


def _delegation(kind: str):
    zh, en = NO_PLAN_KINDS[kind]

    def saying(w, e, p, name):
        d = p.get("new") or {}
        return (f"{w(zh, en)}{w.mark('：')}{d.get('principal')} → {d.get('delegate')}"
                f"{w.aside(w.day(d.get('starts_on')) + ' – ' + w.day(d.get('ends_on')))}"
                + (f"{w.mark('，')}{d['reason']}" if d.get("reason") else ""))
    return saying


def _mail_retried(w, e, p, name):
    return (f"{w('重发邮件', 'mail sent again')} {p.get('mail_id')}{w.aside(str(p.get('username')))}"
            f"{w.mark('，')}{w('已试', 'attempts')} {p.get('attempts')}")


def _audit_anchored(w, e, p, name):
    # an anchor is the trail's end as it stood, kept outside the database (engine/audit.py anchor),
    # not where the trail starts
    database = w.aside(f"{w('数据库', 'database')} {p['database']}") if p.get("database") else ""
    return (f"{w(*NO_PLAN_KINDS['audit_anchored'])}{w.mark('：')}"
            f"{w('本事件的编号和哈希写入锚点文件，留存于数据库之外，供 audit verify --anchor 核对此前的记录未被截断或改写', 'this event’s number and hash written to an anchor file to keep outside the database, for audit verify --anchor to check that nothing up to it was cut off or rewritten')}"
            f"{database}")


def _audit_verified(w, e, p, name):
    verdict = w("完好", "intact") if p.get("ok") else w(f"发现 {p.get('problems')} 处问题", f"{p.get('problems')} problem(s) found")
    return (f"{w(*NO_PLAN_KINDS['audit_verified'])}{w.mark('：')}{verdict}{w.mark('，')}"
            f"{w('事件', 'events')} {p.get('events')}{w.mark('，')}{w('附件', 'files')} {p.get('files')}"
            f"{w.mark('，')}head {str(p.get('head_hash'))[:16]}…")


def _audit_exported(w, e, p, name):
    which = w(f"方案 {p['plan']}", f"plan {p['plan']}") if p.get("plan") else w("全部", "whole trail")
    return (f"{w(*NO_PLAN_KINDS['audit_exported'])}{w.mark('：')}{which}{w.mark('，')}{p.get('format')}"
            f"{w.mark('，')}{w('事件', 'events')} {p.get('events')}"
            + (f"{w.mark('，')}{w('至事件', 'up to event')} {p['last_seq']}" if p.get("last_seq") else "")
            + (f"{w.mark('，')}{w('发现审计记录已损坏，首个问题：', 'found the trail broken, first: ')}"
               f"{w(p['broken']['zh'], p['broken']['en'])}" if p.get("broken") else ""))


# what of a kept step a move to a new version changed (engine/migration.py _step_changes)
_STEP_CHANGES = {"name": ("名称", "name"), "documentation": ("办理说明", "instructions"), "form": ("表单", "form"),
                 "candidates": ("候选人", "candidates"), "lane": ("泳道", "lane"), "due": ("期限规则", "due-date rule"),
                 "timer": ("定时规则", "timer rule")}


def _migrated(w, e, p, name):
    old, new = (p.get('old') or {}).get('version'), (p.get('new') or {}).get('version')
    # a move of the running called processes alone leaves the plan's own version as it was
    moved = [f"{p.get('key')} v{old} → v{new}"] if old != new else []
    moved += [f"{key} v{v.get('from')} → v{v.get('to')}" for key, v in (p.get("called_moved") or {}).items()]
    line = f"{w('迁移到新版本', 'moved to a new version')} {w.mark('、').join(moved)}{w.mark('：')}{p.get('reason')}"
    steps = []
    for step in p.get("steps") or []:
        old = step.get("name") or step.get("element_id")
        new = step.get("new_name") or step.get("element_id")
        said_step = old if old == new else f"{old} → {new}"
        changes = [_STEP_CHANGES.get(c, (c, c)) for c in step.get("changes") or []]
        if changes:
            zh, en = "、".join(c[0] for c in changes), ", ".join(c[1] for c in changes)
            said_step += w.aside(w(zh, en, f"{zh} {en}"))
        steps.append(said_step)
    if steps:
        line += f"{w.mark('；')}{w('保留待办', 'steps kept')} {w.mark('、').join(steps)}"
    return line


def _ended(w, e, p, name):
    return f"{w('方案结束', 'ended')}{w.mark('：')}{p.get('end_name') or p.get('end_event') or '-'}"


_SAYINGS = {
    "instance_started": _started, "task_created": _created, "task_claimed": _claimed,
    "task_unclaimed": _unclaimed, "task_assigned": _assigned, "task_completed": _completed,
    "task_cancelled": _cancelled, "instance_cancelled": _plan_cancelled, "instance_migrated": _migrated, "task_reminded": _reminded,
    "task_overdue_notice": _withheld,
    "task_due_changed": _due_changed, "timer_fired": _timer_fired, "timer_moved": _timer_moved,
    "escalation": _escalation, "message_received": _message, "signal_received": _signal,
    "document_attached": _attached, "comment_added": _commented, "instance_ended": _ended, "task_urged": _urged,
    "task_draft_saved": _draft_saved,
    **{kind: _token(kind) for kind in ("token_created", "token_revoked")},
    "token_refused": _token_refused,
    "user_added": _user_added, "user_changed": _user_changed, "group_added": _group_added,
    **{kind: _about_user(kind) for kind in ("user_deactivated", "user_reactivated", "password_set", "password_reset",
                                             "password_change_refused", "signed_in", "signed_out", "sign_in_refused",
                                             "session_expired")},
    "deployed": _deployed, "calendar_changed": _calendar_changed,
    **{kind: _delegation(kind) for kind in ("delegation_created", "delegation_ended")},
    "mail_retried": _mail_retried, "audit_anchored": _audit_anchored, "audit_verified": _audit_verified,
    "audit_exported": _audit_exported,
}


def _entered(w, value: dict) -> str:
    """A value a person entered: a choice with its name, yes or no for a tick box. The terminal
    shows a choice's code before its name (`major（重大改革方案）`: the code is what `--data`
    takes); a page, which people fill in by the names, shows the name only."""
    if isinstance(value["value"], bool) and not value["option"]:
        return w("是", "yes", "是") if value["value"] else w("否", "no", "否")
    if value["option"] and w.language != "both":
        return value["option"]
    if w.chinese_dates and display.is_iso_day(value["value"]):
        return w.day(value["value"])  # a date field's value, as the page's other dates read
    return display.entered(value)


def _guessed(w, p: dict) -> str:
    """A deadline counted for a year whose holidays nobody had entered: on the statutory holidays and
    weekends, or, recorded before the law's holidays were counted (the warning said 只按周末计算, and
    before 3 December 2026 暂按周一至周五计算), on plain weekends: the trail says what was done then."""
    warnings = p.get("calendar_warnings") or []
    years = sorted({y for x in warnings for y in re.findall(r"(\d{4}) 年", x)[:1]})
    if not years:
        return ""
    if not any("法定节假日" in x for x in warnings):
        return w.mark("；") + w(f"按周末推算，{'、'.join(years)} 年节假日当时未录入",
                                f"counted on plain weekends: no holiday calendar for {', '.join(years)} then")
    return w.mark("；") + w(f"按法定节假日和周末推算，{'、'.join(years)} 年调休当时未录入",
                            f"counted on the statutory holidays and weekends: no holiday calendar for "
                            f"{', '.join(years)} then")


def _moved_because(w, p: dict) -> str:
    if p.get("reason") == "calendar":
        return w.aside(w("节假日安排录入或撤销后重算", "calendar changed"))
    if p.get("reason") == "calendar_rule":
        return w.aside(w("按现行工作日规则重算", "counted again by today's working-day rule"))
    if p.get("reason") == "migration":
        return w.aside(w("迁移到新版本，按新版本的规则重算", "moved to a new version: counted again by its rule"))
    if "inputs" in (p.get("old") or {}):
        return w.aside(w("所依据的内容已修改", "the values it counts from changed"))
    return ""
