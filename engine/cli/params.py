"""The kinds of value the commands take: a row id, a year, a day, a plan (by id or business key).
Each refuses a bad value in Chinese first, like every other refusal; every family of commands
uses them.
"""
from __future__ import annotations

import re

import click

from .. import clock


class BadValue(click.BadParameter):
    """A bad option or argument value, said like every refusal: Chinese first, English in brackets."""

    def __init__(self, zh: str, en: str, ctx=None, param=None, param_hint=None):
        super().__init__(en, ctx, param, param_hint)
        self.zh = zh

    def format_message(self) -> str:
        hint = self.param.get_error_hint(self.ctx) if self.param is not None and self.ctx is not None \
            else self.param_hint or "value"
        return f"{hint} 取值无效：{self.zh} (invalid value for {hint}: {self.message})"


class _SaysWhatIsAllowed:
    """For click's range types: the refusal says in Chinese what is allowed."""

    def __init__(self, low, high, zh: str):
        super().__init__(low, high)
        self.zh = zh

    def fail(self, message, param=None, ctx=None):
        # click's message comes from the catalogue as "中文 (English)."; the gloss wants the English
        zh, bracket, en = message.rstrip(".").partition(" (")
        english = en[:-1] if bracket and en.endswith(")") and not zh.isascii() else message.rstrip(".")
        raise BadValue(self.zh, english, ctx, param)


class IntRange(_SaysWhatIsAllowed, click.IntRange):
    pass


class FloatRange(_SaysWhatIsAllowed, click.FloatRange):
    pass


# Row ids are INTEGER columns: PostgreSQL's end at 2**31 - 1 (a bigger number fails the query
# there, and beyond 2**63 - 1 SQLite cannot even bind it).
ID = IntRange(1, 2**31 - 1, f"编号须为 1 至 {2**31 - 1} 之间的整数")
YEARS = clock.YEARS  # calendar years and the engine clock, as every command takes them
YEAR = IntRange(*YEARS, f"年份须在 {YEARS[0]} 至 {YEARS[1]} 之间")


class Day(click.DateTime):
    """A calendar day, YYYY-MM-DD, in the years a calendar can be entered for."""

    def __init__(self):
        super().__init__(["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        day = super().convert(value, param, ctx)
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise BadValue(f"须在 {YEARS[0]} 至 {YEARS[1]} 年之间",
                           f"must be between the years {YEARS[0]} and {YEARS[1]}", ctx, param)
        return day

    def fail(self, message, param=None, ctx=None):
        raise BadValue("须为日期，格式 YYYY-MM-DD", message.rstrip("."), ctx, param)


class BusinessKey(str):
    """A plan named by its business key (DT-2015-04) on the command line, found when the command runs."""


class PlanId(int):
    """A plan named by its id on the command line, looked up when the command runs: a filter such
    as `audit export --instance 99` would otherwise answer an unknown plan with nothing."""


class PlanParam(click.ParamType):
    """A plan: its id, or its business key (a key that is a whole number is read as an id)."""
    name = "PLAN"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or re.fullmatch(r"\s*[+-]?\d+\s*", str(value)):
            return PlanId(ID.convert(value, param, ctx))
        return BusinessKey(str(value).strip())


PLAN = PlanParam()


def _plan_id(state, value):
    """A plan given by its id or business key, turned into the id of a plan that exists; anything
    else as it is."""
    if not isinstance(value, (BusinessKey, PlanId)):
        return value
    from sqlalchemy import select

    from models import ProcessInstance

    from ..errors import NotFound
    if isinstance(value, PlanId):
        with state.db.reader() as s:
            found = s.execute(select(ProcessInstance.id).where(ProcessInstance.id == int(value))).scalar()
        if found is None:
            raise NotFound(f"方案 {value} 不存在 (no such plan: {value})")
        return found
    from ..commands import business_key_form
    with state.db.reader() as s:
        found = s.execute(select(ProcessInstance.id).where(
            ProcessInstance.business_key == business_key_form(value))).scalar()
    if found is None:
        raise NotFound(f"没有业务编号为 {value} 的方案 (no plan with business key {value})")
    return found


# --------------------------------------------------------------------------- who acts
SYSTEM = "system"  # engine.commands.SYSTEM_ACTOR: the operator, with the database's credentials


class MissingActor(click.BadParameter):
    """`--as` left out where a person must act: said the same by every command, on one line, with
    what to write (click's own said only "Missing option '--as'")."""

    def __init__(self, ctx):
        super().__init__("缺少 --as：请用 --as 用户名 写明以谁的身份办理，如 --as chen；在岗人员见 reformflow users list "
                         "(missing --as: say as whom with --as USERNAME, e.g. --as chen; `reformflow users list` "
                         "lists who is active)", ctx)

    def format_message(self) -> str:
        return self.message


class _ActingUserOption(click.Option):
    """A required --as whose absence is said by MissingActor rather than click's bare "Missing option"."""

    def process_value(self, ctx, value):
        if self.required and self.value_is_missing(value) and not ctx.resilient_parsing:
            raise MissingActor(ctx)
        return super().process_value(ctx, value)


def acting_user(*, operator: bool = False):
    """The one `--as USER` of every command that acts for someone or answers as someone: the same
    name, help and refusal everywhere. `operator`: an act the operator does with the database's
    credentials before anyone exists (`groups add`, `users add`, `deploy`): left out, it is the
    system's; given, it is that person's and checked like any other."""
    if operator:
        return click.option("--as", "actor", metavar="USER", default=SYSTEM, show_default=True,
                            help="以谁的身份：在职用户的用户名，办理的事以其名记入审计记录；不写则记为 system，即运维人员 "
                                 "(as whom: an active user's name; what is done is recorded in their name; left out, system: "
                                 "the operator).")
    return click.option("--as", "actor", metavar="USER", required=True, cls=_ActingUserOption,
                        help="以谁的身份：在职用户的用户名，办理的事以其名记入审计记录 "
                             "(as whom: an active user's name; what is done is recorded in their name).")
