"""The engine clock and SpiffWorkflow timers reading it."""

import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from engine import clock
from engine.clock import TZ


@pytest.fixture(autouse=True)
def _no_override():
    """These tests compare the engine clock with the machine's: a run's day offset
    (REFORMFLOW_TEST_TODAY) is set aside for them and put back."""
    offset = clock.get_offset()
    clock.set_override(None)
    clock.set_offset(timedelta(0))
    yield
    clock.set_override(None)
    clock.set_offset(offset)


def test_now_is_aware_utc_and_real_without_freezing():
    before = datetime.now(timezone.utc)
    value = clock.now()
    after = datetime.now(timezone.utc)
    assert value.utcoffset() == timedelta(0)
    assert before <= value <= after


def test_frozen_naive_means_beijing_time():
    with clock.frozen(datetime(2026, 2, 28, 23, 30)) as at:
        assert at == datetime(2026, 2, 28, 15, 30, tzinfo=timezone.utc)
        assert clock.now() == at
        assert clock.now().tzinfo == timezone.utc
        assert clock.local_now() == datetime(2026, 2, 28, 23, 30, tzinfo=TZ)
        assert clock.today() == date(2026, 2, 28)


def test_today_is_the_beijing_date_not_the_utc_date():
    # 2026-02-28 17:00 UTC is already 1 March 01:00 in Beijing.
    with clock.frozen(datetime(2026, 2, 28, 17, 0, tzinfo=timezone.utc)):
        assert clock.today() == date(2026, 3, 1)


def test_frozen_nests_and_restores():
    outer = datetime(2026, 1, 1, 9, 0, tzinfo=TZ)
    inner = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
    with clock.frozen(outer):
        with clock.frozen(inner):
            assert clock.now() == inner
        assert clock.now() == outer
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_frozen_restores_after_exception():
    with pytest.raises(RuntimeError):
        with clock.frozen(datetime(2020, 1, 1, tzinfo=TZ)):
            raise RuntimeError("boom")
    assert clock.now().year >= 2025


def test_set_override_applies_process_wide_and_frozen_wins():
    cli_now = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    clock.set_override(cli_now)
    assert clock.now() == cli_now
    assert clock.get_override() == cli_now

    seen = []
    worker = threading.Thread(target=lambda: seen.append(clock.now()))
    worker.start()
    worker.join()
    assert seen == [cli_now]

    frozen_at = datetime(2026, 4, 1, 8, 0, tzinfo=TZ)
    with clock.frozen(frozen_at):
        assert clock.now() == frozen_at
    assert clock.now() == cli_now

    clock.set_override(None)
    assert clock.get_override() is None
    assert clock.now().year >= 2025


def test_frozen_is_per_context_not_leaking_to_other_threads():
    seen = []
    with clock.frozen(datetime(2000, 1, 1, tzinfo=TZ)):
        worker = threading.Thread(target=lambda: seen.append(clock.now()))
        worker.start()
        worker.join()
    assert seen[0].year >= 2025


# -- a run "as on" another day (REFORMFLOW_TEST_TODAY) ----------------------


def test_shift_to_makes_today_that_day_and_the_clock_keeps_running():
    real_local = datetime.now(timezone.utc).astimezone(TZ)
    offset = clock.shift_to(date(2026, 12, 12))
    assert offset == timedelta(days=(date(2026, 12, 12) - real_local.date()).days)
    first = clock.now()
    assert clock.today() in (date(2026, 12, 12), date(2026, 12, 13))  # 13th: midnight passed meanwhile
    # the time of day is the machine's: only whole days are added
    assert abs(clock.local_now() - offset - datetime.now(timezone.utc)) < timedelta(seconds=5)
    threading.Event().wait(0.05)
    assert clock.now() > first  # time flows: timers, sessions and waits still see it pass
    seen = []
    worker = threading.Thread(target=lambda: seen.append(clock.today()))  # process-wide
    worker.start()
    worker.join()
    assert seen == [clock.today()]


def test_the_offset_moves_real_now_too_so_a_shifted_run_is_not_backdating():
    clock.set_offset(timedelta(days=-40))
    before = datetime.now(timezone.utc) - timedelta(days=40)
    assert before <= clock.real_now() <= datetime.now(timezone.utc) - timedelta(days=40)
    assert abs(clock.now() - clock.real_now()) < timedelta(seconds=5)


def test_frozen_and_override_win_over_the_offset():
    clock.shift_to(date(2027, 1, 4))
    with clock.frozen(datetime(2026, 3, 2, 9, 0)):
        assert clock.today() == date(2026, 3, 2)
    clock.set_override(datetime(2026, 5, 6, 9, 0))
    assert clock.today() == date(2026, 5, 6)
    clock.set_override(None)
    assert clock.today() in (date(2027, 1, 4), date(2027, 1, 5))  # unless midnight passed meanwhile
    clock.set_offset(timedelta(0))
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_set_offset_rejects_a_non_timedelta():
    with pytest.raises(TypeError):
        clock.set_offset(3)


def test_frozen_rejects_non_datetime():
    with pytest.raises(TypeError):
        with clock.frozen(date(2026, 1, 1)):
            pass


# -- SpiffWorkflow -------------------------------------------------------


def test_patch_makes_timer_module_read_our_clock():
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    clock.patch_spiffworkflow_clock()
    clock.patch_spiffworkflow_clock()  # idempotent
    assert timer.datetime is clock.ClockDatetime

    at = datetime(2026, 10, 9, 9, 0, tzinfo=TZ)
    with clock.frozen(at):
        spiff_now = timer.datetime.now(timezone.utc)
        assert spiff_now == at
        assert spiff_now.tzinfo == timezone.utc
        assert timer.datetime.now(TZ) == datetime(2026, 10, 9, 9, 0, tzinfo=TZ)
        assert timer.datetime.now() == datetime(2026, 10, 9, 9, 0)  # naive Beijing
        assert timer.datetime.utcnow() == datetime(2026, 10, 9, 1, 0)


def test_patched_datetime_keeps_the_rest_of_datetime():
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    clock.patch_spiffworkflow_clock()
    parsed = timer.datetime.fromisoformat("2026-12-01T09:00:00+08:00")
    assert parsed == datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    # isinstance checks in timer.py must still accept ordinary datetimes
    assert isinstance(datetime(2026, 1, 1), timer.datetime)
    assert not isinstance(date(2026, 1, 1), timer.datetime)
    # a naive timer value means Beijing time to SpiffWorkflow as well
    assert timer.TimerEventDefinition.get_datetime("2026-12-01T09:00:00") == datetime(
        2026, 12, 1, 1, 0, tzinfo=timezone.utc
    )


_TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="wait_one_hour" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t1">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_spiffworkflow_timer_fires_by_the_engine_clock():
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    clock.patch_spiffworkflow_clock()
    parser = BpmnParser()
    parser.add_bpmn_str(_TIMER_BPMN.encode())
    spec = parser.get_spec("wait_one_hour")

    start = datetime(2025, 9, 30, 17, 0, tzinfo=TZ)
    with clock.frozen(start):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        workflow.refresh_timers()
        assert not workflow.is_completed()

    with clock.frozen(start + timedelta(minutes=59)):
        workflow.refresh_timers()
        workflow.do_engine_steps()
        assert not workflow.is_completed()

    with clock.frozen(start + timedelta(minutes=61)):
        workflow.refresh_timers()
        workflow.do_engine_steps()
        assert workflow.is_completed()


def test_REFORMFLOW_TEST_TODAY_moves_the_clock_of_every_xdist_worker(tmp_path):
    """The suite as CI runs it on another day: two tests, each possibly in its own worker,
    read that day from the engine clock (tests/conftest.py moves it before any fixture)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    (tmp_path / "test_the_day.py").write_text(
        "from engine import clock\n"
        "def test_one(): assert clock.today().isoformat() in ('2026-12-12', '2026-12-13')\n"
        "def test_two(): assert clock.today().isoformat() in ('2026-12-12', '2026-12-13')\n")
    env = {**os.environ, "REFORMFLOW_TEST_TODAY": "2026-12-12"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                          "-n", "2", "--rootdir", str(tmp_path), str(tmp_path)],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert "2 passed" in run.stdout, run.stdout + run.stderr
