"""camunda:formData validation rules that the engine tests do not reach directly."""
import pytest

from engine.errors import Invalid
from engine.forms import validate


def field(fid, kind="string", default=None, constraints=None, options=(), properties=None):
    return {"id": fid, "label": fid, "type": kind, "default": default, "options": list(options),
            "constraints": constraints or {}, "properties": properties or {}}


DECISION = field("decision", "enum", constraints={"required": None},
                 options=[{"id": "approve", "name": "通过"}, {"id": "return", "name": "退回"}])
REASON = field("returnReason", properties={"keep": "false"})
UNIT = field("leadUnit")
DAYS = field("legalReviewDays", "long", default="15", constraints={"min": "7", "max": "30"})


def test_a_required_decision_left_over_from_an_earlier_pass_does_not_count():
    with pytest.raises(Invalid) as err:
        validate([DECISION], {}, {"decision": "approve"})
    assert err.value.details[0]["code"] == "required"


def test_fields_left_out_keep_their_value_unless_marked_keep_false():
    values = validate([DECISION, REASON, UNIT, DAYS], {"decision": "approve"},
                      {"returnReason": "上一轮的退回理由", "leadUnit": "市财政局"})
    assert values == {"decision": "approve", "returnReason": None, "leadUnit": "市财政局",
                      "legalReviewDays": 15}


def test_types_are_coerced_from_web_form_strings():
    form = [field("ok", "boolean"), field("when", "date"), DAYS]
    assert validate(form, {"ok": "true", "when": "2026-02-28", "legalReviewDays": "10"}, {}) == \
        {"ok": True, "when": "2026-02-28", "legalReviewDays": 10}
    with pytest.raises(Invalid) as err:
        validate(form, {"ok": "maybe", "when": "28/02/2026", "legalReviewDays": "6"}, {})
    assert [d["code"] for d in err.value.details] == ["type", "type", "constraint"]


def test_readonly_fields_cannot_be_changed():
    ro = field("mediumRiskPolicy", default="adjust", constraints={"readonly": None})
    assert validate([ro], {}, {}) == {"mediumRiskPolicy": "adjust"}
    with pytest.raises(Invalid):
        validate([ro], {"mediumRiskPolicy": "proceed"}, {})
