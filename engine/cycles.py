"""A repeating timer (a cycle on a non-interrupting boundary event) fires exactly as many times
as it says.

SpiffWorkflow 3.2.0 runs the path after the timer once per repetition, and then, once the count
is spent, completes the timer event itself, which runs the path once more: `R2/P1D` reminded
three times, the third at once after the second, and the trail recorded that third firing with
the timer's internal state as its due time. Here a spent cycle simply goes on waiting, like an
event that will not come again, until the task it sits on is completed and it is cancelled with
it (as before). `install()` swaps this in; the engine calls it once at start-up.
"""
from __future__ import annotations

from datetime import timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition


def _cycle_complete(self, my_task) -> bool:
    """SpiffWorkflow's CycleTimerEventDefinition.cycle_complete without its last step: True when
    the next repetition is due (the path runs), never marking the event fired."""
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
    ready = False
    if event_value["cycles"] != 0:  # -1: without end
        next_event = timer.datetime.fromisoformat(event_value["next"])
        if next_event < timer.datetime.now(timer.timezone.utc):
            event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
            event_value["cycles"] -= 1
            ready = True
    my_task._set_internal_data(event_value=event_value)
    return ready


def install() -> None:
    """Idempotent."""
    CycleTimerEventDefinition.cycle_complete = _cycle_complete
