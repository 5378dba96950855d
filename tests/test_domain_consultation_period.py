"""A public consultation of N days does not count the day it starts (Civil Code Art. 201: 开始的
当日不计入), as the filing periods do not: 30 days from 2 March run to the end of 1 April. The
library had ended it at the end of 31 March, one day short of Decree 713 Art. 15's minimum."""
from __future__ import annotations

from .plan_helper import Plan


def test_a_thirty_day_consultation_from_2_march_ends_at_the_end_of_1_april(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
        plan.do("Task_PublicConsultation", consultationStart="2026-03-02", consultationDays=30)
        plan.do("Task_DepartmentOpinions")
        assert plan.refresh()["next_timer_at"] == "2026-04-01T16:00:00+00:00"
    assert plan.fire_timers_at(at, "2026-03-31T23:59:00") == []  # the 29th day after the start: still open
    assert plan.fire_timers_at(at, "2026-04-01T23:59:00") == []  # the 30th: its last day
    assert plan.fire_timers_at(at, "2026-04-02T00:00:01") == ["Event_ConsultationPeriodEnds"]
    assert plan.active == ["Task_RecordPublicComments"]


def test_a_consultation_whose_last_day_is_in_the_national_day_holiday_runs_to_8_october(library, at):
    """Art. 203: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日. 30 days from
    1 September 2026 end on 1 October, in the holiday (1-7 October): the public may comment until the
    end of 8 October, and nothing can be recorded about the comments before."""
    with at("2026-09-01T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
        plan.do("Task_PublicConsultation", consultationStart="2026-09-01", consultationDays=30)
        plan.do("Task_DepartmentOpinions")
        assert plan.refresh()["next_timer_at"] == "2026-10-08T16:00:00+00:00"
    assert plan.fire_timers_at(at, "2026-10-02T00:00:01") == []  # the 30th day is over, but was a holiday
    assert plan.fire_timers_at(at, "2026-10-08T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-10-09T00:00:01") == ["Event_ConsultationPeriodEnds"]
    assert plan.active == ["Task_RecordPublicComments"]
