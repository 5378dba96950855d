"""A task's form as the JSON API gives it: typed for a client (docs/api.md, "A task's form").

The engine keeps a form as the diagram wrote it, every value a text (`{"required": null}`,
`"min": "1"`, a default `"false"`), and the web pages read it so; a client testing
`constraints.get("required")` took a required field for optional. Here a flag constraint is
`true`, a literal number a number, an expression `{"expression": "${…}"}` (`bounds` holds what
it comes to for this task now), a default of the field's type; `properties` stay texts.
"""
from __future__ import annotations

from engine import forms
from engine.expressions import is_wrapped

FLAGS = ("required", "readonly")  # a constraint that holds by being there: no config


def typed_form(fields: list[dict]) -> list[dict]:
    return [typed_field(f) for f in fields]


def typed_field(field: dict) -> dict:
    constraints = {name: _constraint(field, name, config) for name, config in field["constraints"].items()}
    return dict(field, constraints=constraints, default=forms.default_value(field))


def _constraint(field: dict, name: str, config):
    if name in FLAGS:
        return True
    text = (config or "").strip()
    if is_wrapped(text):
        return {"expression": text}
    if name in ("minlength", "maxlength") or field["type"] == "long":
        try:
            return int(text)
        except ValueError:
            return text
    return text  # a date field's literal bound: "2027-01-31"
