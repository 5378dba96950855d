"""A field the library's forms say is required only with some answers (「退回理由（退回时必填）」)
is required by the form itself (`requiredWhen`): 提交 without it is refused at the field, where
it is typed, rather than the diagram sending the step back to be filled in again. The scenario
tests of each diagram submit such a form with and without the field."""
from __future__ import annotations

import re

import pytest

from engine.expressions import compile_expression
from engine.forms import REQUIRED_WHEN
from engine.scripting import FUNCTION_NAMES

from .test_review_rounds import FIELDS

# 「…（退回时必填）」, 「…（申请复核的必填）」: the label names the answers that need the field
SAID_REQUIRED_WITH_SOME_ANSWERS = re.compile(r"（[^（）]*(?:时|的)必填）$")

CONDITIONAL = sorted(where for where, f in FIELDS.items()
                     if not f["readonly"] and SAID_REQUIRED_WITH_SOME_ANSWERS.search(f["label"] or ""))


def test_the_library_has_such_fields_in_each_review():
    files = {file for file, _task, _field in CONDITIONAL}
    assert files == {"adjustment.bpmn", "deliberation.bpmn", "filing.bpmn", "implementation.bpmn",
                     "legality_review.bpmn", "reform_plan.bpmn", "work_report.bpmn"}


@pytest.mark.parametrize("where", CONDITIONAL, ids=["/".join(w) for w in CONDITIONAL])
def test_a_field_required_with_some_answers_is_required_by_the_form(where):
    assert REQUIRED_WHEN in FIELDS[where]["properties"], f"{where}: its label says when it is required, the form does not"


WITH_RULE = sorted(where for where, f in FIELDS.items() if REQUIRED_WHEN in f["properties"])


@pytest.mark.parametrize("where", WITH_RULE, ids=["/".join(w) for w in WITH_RULE])
def test_the_rule_reads_a_choice_on_the_same_form(where):
    """The refusal names what was chosen (「…」为必填项：审核结论为「退回」): the rule must read a
    field of the form, not only the plan's variables, or it would say 按流程规定."""
    file, task, _field = where
    names = compile_expression(FIELDS[where]["properties"][REQUIRED_WHEN], FUNCTION_NAMES).names
    on_form = {fid for (f, t, fid), field in FIELDS.items() if (f, t) == (file, task) and not field["readonly"]}
    assert names & on_form, f"{where}: {REQUIRED_WHEN} reads nothing chosen on its form"
