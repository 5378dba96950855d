"""Repeating timers (cycles) a diagram can make run away: more often than hourly, longer than a
year, starting in the past, or from a ${...} expression the deploy check cannot see. Each is
refused, naming the file and element, and nothing changes; before, `R/PT1S` fired 600 times in
ten minutes, `${'R/PT0S'}` and `R/2001-01-01T00:00:00/PT1M` never let `start` return, and
`${'garbage'}` ended in a traceback."""
from __future__ import annotations

import pytest

from engine.checks import check_files
from engine.deadlines import TimerValueError, parse_cycle
from engine.errors import Invalid

from .conftest import FIXTURES

CORPUS_FILE = FIXTURES / "corpus" / "timer_boundary_non_interrupting.bpmn"
KEY = "corpus_timer_boundary_non_interrupting"


def _with_cycle(value: str) -> tuple[str, bytes]:
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert ">R2/P1D<" in text
    return ("reminder.bpmn", text.replace(">R2/P1D<", f">{value}<").encode())


@pytest.mark.parametrize("value, said", [
    ("R/PT1S", "周期间隔至少 1 小时"), ("R3/PT59M", "周期间隔至少 1 小时"), ("R/P9000Y", "周期间隔至多 1 年"),
    ("R/P2Y", "周期间隔至多 1 年"), ("R/2001-01-01T00:00:00/PT1M", "周期间隔至少 1 小时")])
def test_a_cycle_more_often_than_hourly_or_longer_than_a_year_is_refused_at_check(value, said):
    with pytest.raises(TimerValueError, match=said):
        parse_cycle(value)
    [problem] = [p for p in check_files([_with_cycle(value)], use_modeler=False).errors if p["rule"] == "timer"]
    assert said in problem["message"] and problem["file"] == "reminder.bpmn"


@pytest.mark.parametrize("value", ["R3/PT1H", "R/P1W", "R12/P1M", "R2/P1Y"])
def test_hourly_to_yearly_cycles_are_accepted(value):
    assert parse_cycle(value).duration


@pytest.mark.parametrize("expression, said", [
    ("${'R/PT0S'}", "周期间隔不能为零"), ("${'R/PT1S'}", "周期间隔至少 1 小时"),
    ("${'R1/P99999999Y'}", "时长过长"), ("${'garbage'}", "不是 ISO 8601 周期"), ("${42}", "周期须为 'R3/P1D' 这样的文本"),
    ("${'R/2001-01-01T00:00:00/PT1H'}", "周期从 2001-01-01 00:00 开始，已经过去"),
    ("R/2026-03-03T09:00:00/PT1H", "周期从 2026-03-03 09:00 开始，已经过去")])
def test_a_cycle_that_would_run_away_is_refused_when_the_step_opens_and_nothing_changes(engine, people, at, expression, said):
    with at("2026-03-02T10:00:00"):  # deployed the day before its start; the step opens after it
        engine.deploy([_with_cycle(expression)])
    with at("2026-03-04T10:00:00"):
        with pytest.raises(Invalid) as refused:
            engine.start(KEY, actor="zhang")
    assert said in refused.value.message
    assert "reminder.bpmn" in refused.value.message and "未做任何更改" in refused.value.message
    with engine.db.reader() as s:
        from models import ProcessInstance
        assert s.query(ProcessInstance).count() == 0


def test_a_cycle_starting_later_runs(engine, people, at):
    with at("2026-03-02T10:00:00"):
        engine.deploy([_with_cycle("R2/2026-03-05T09:00:00/P1D")])
        plan = engine.start(KEY, actor="zhang")
    assert plan["next_timer_at"] == "2026-03-05T01:00:00+00:00"


@pytest.mark.parametrize("value, kind, said", [
    ("R/2001-01-01T00:00:00/PT1H", "timeCycle", "已经过去"),
    ("9999-12-31", "timeDate", "无法使用"), ("P9000Y", "timeDuration", "无法使用")])
def test_a_value_written_out_that_no_plan_could_use_is_refused_at_check(value, kind, said):
    """check passed these, and every plan's step then refused them."""
    text = CORPUS_FILE.read_text(encoding="utf-8").replace("<bpmn:timeCycle", f"<bpmn:{kind}").replace(
        "</bpmn:timeCycle>", f"</bpmn:{kind}>").replace(">R2/P1D<", f">{value}<")
    problems = [p for p in check_files([("reminder.bpmn", text.encode())], use_modeler=False).errors if p["rule"] == "timer"]
    assert problems and said in problems[0]["message"], problems


def test_a_repeating_reminder_fires_as_many_times_as_it_says_and_no_more(engine, people, at):
    """R2/P1D whose path ends at once: SpiffWorkflow ran it a third time right after the second,
    completing the spent timer, and the trail recorded that firing with the timer's internal
    state as its due time."""
    from .test_modeler_corpus import audit
    with at("2026-12-10T09:00:00"):
        engine.deploy([("cycle_to_end.bpmn", (FIXTURES / "runaway" / "cycle_to_end.bpmn").read_bytes())])
        plan = engine.start("qa_cyc_R2_P1D", actor="chen")
    for day in ("11", "12", "13", "20"):
        with at(f"2026-12-{day}T10:00:00"):
            engine.fire_due_timers()
    fired = [p["due"] for kind, p in audit(engine, plan["id"]) if kind == "timer_fired"]
    assert fired == ["2026-12-11T01:00:00+00:00", "2026-12-12T01:00:00+00:00"]
    view = engine.instance(plan["id"])
    assert view["next_timer_at"] is None and [t["name"] for t in view["tasks"]] == ["办理"]


def test_a_cycle_with_an_end_fires_its_count_before_the_end(engine, people, at):
    """R3/P1D/2026-12-14: three reminders, the last before the 14th. SpiffWorkflow started it one
    interval before the end and went on firing past it."""
    from .test_modeler_corpus import audit
    text = (FIXTURES / "runaway" / "cycle_to_end.bpmn").read_text(encoding="utf-8")
    assert ">R2/P1D<" in text
    with at("2026-12-10T09:00:00"):
        engine.deploy([("cycle_to_end.bpmn", text.replace(">R2/P1D<", ">R3/P1D/2026-12-14<").encode())])
        plan = engine.start("qa_cyc_R2_P1D", actor="chen")
    for day in ("11", "12", "13", "14", "15", "20"):
        with at(f"2026-12-{day}T10:00:00"):
            engine.fire_due_timers()
    fired = [p["due"] for kind, p in audit(engine, plan["id"]) if kind == "timer_fired"]
    assert fired == ["2026-12-10T16:00:00+00:00", "2026-12-11T16:00:00+00:00", "2026-12-12T16:00:00+00:00"]
