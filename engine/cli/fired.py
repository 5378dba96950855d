"""What `timers run` and the worker say of the timers they fired: each plan by its id, business
key and title, each timer by its name, when it was due and how late it fired; the first
`SHOWN_PLANS` plans of a long backlog, the rest counted (等共 M 个); and, when timers fired more
than engine/timer_lag.py's GRACE late, that the worker was behind (stopped, most likely).
Also the warning of a `--now` far from the machine's clock, before anything fires.
"""
from __future__ import annotations

from datetime import timedelta

import click

from .. import clock, display, timer_lag

SHOWN_PLANS = 20  # plans named one by one in the text; more are counted
FAR_CLOCK = timedelta(days=1)  # a --now further than this from the machine's clock is warned of


def lines(fired: list[dict]) -> list[str]:
    """The lines of a round that fired timers in `fired` plans (none: the count alone)."""
    head = f"已触发 {len(fired)} 个方案的定时器 (fired timers in {display.counted(len(fired), 'plan')})"
    if not fired:
        return [head]
    said = [head + "："] + [f"    {_plan(plan)}" for plan in fired[:SHOWN_PLANS]]
    if len(fired) > SHOWN_PLANS:
        said.append(f"    …… 等共 {len(fired)} 个方案 (… {len(fired)} plans in all)")
    late = [t for plan in fired for t in plan.get("fired", ()) if t["late"]]
    if late:
        oldest = min(t["due_at"] for t in late)
        minutes = int(timer_lag.GRACE.total_seconds() // 60)
        said.append(f"注意：{len(late)} 个定时器比应触发的时间晚 {minutes} 分钟以上才触发，最早的应于 "
                    f"{display.minute(oldest)} 触发，定时器工作进程此前可能已停止 (note: "
                    f"{display.counted(len(late), 'timer')} fired more than {minutes} minutes late, the earliest due "
                    f"{display.minute(oldest)}: the timer worker was behind, probably stopped)")
    return said


def _plan(plan: dict) -> str:
    """「4 DT-2026-07 某方案：期满提醒（应于 2026-03-02 10:00 触发，迟 3 天）」 with the English after."""
    name = " ".join(str(p) for p in (plan["instance_id"], plan.get("business_key")) if p)
    title = display.shortened(plan.get("title") or "", chinese=True)
    timers = plan.get("fired") or [{"timer": t, "name": None, "due_at": None, "late_seconds": None}
                                   for t in plan["timers"]]
    zh = "、".join(f"{t['name'] or t['timer']}（{_due_zh(t)}）" for t in timers)
    en = "; ".join(f"{t['name'] or t['timer']} {_due_en(t)}" for t in timers)
    return f"{name} {title}：{zh} (plan {name}: {en})"


def _due_zh(timer: dict) -> str:
    if timer["due_at"] is None:
        return "已触发"
    return f"应于 {display.minute(timer['due_at'])} 触发，{_late(timer['late_seconds'], True)}"


def _due_en(timer: dict) -> str:
    if timer["due_at"] is None:
        return "fired"
    return f"due {display.minute(timer['due_at'])}, {_late(timer['late_seconds'], False)}"


def _late(seconds: int, chinese: bool) -> str:
    """How late a timer fired, in the largest whole unit: a worker's round is up to a minute."""
    if seconds < 60:
        return "按时" if chinese else "on time"
    zh, en = display.lateness(timedelta(seconds=seconds))
    return f"迟 {zh}" if chinese else f"{en} late"


def warn_fixed_clock() -> None:
    """A `--now` more than a day from the machine's clock, said on standard error before anything
    fires: a worker started a year ahead fired a year of timers early, and nothing said so. No
    prompt: the worker runs under systemd."""
    fixed = clock.get_override()
    if fixed is None:
        return
    apart = fixed - clock.real_now()
    if abs(apart) <= FAR_CLOCK:
        return
    days = round(abs(apart) / timedelta(days=1))
    side_zh, side_en = ("晚于", "ahead of") if apart > timedelta(0) else ("早于", "behind")
    at = display.minute(fixed.isoformat())
    click.echo(f"reformflow: 警告：引擎时间已用 --now 固定为 {at}，{side_zh}本机时钟 {days} 天；到该时间为止到期的定时器"
               f"将真实触发，触发后不能撤销 (warning: --now fixes the engine clock at {at}, "
               f"{display.counted(days, 'day')} {side_en} the machine's clock; the timers due by then fire for real "
               f"and cannot be undone)", err=True)
