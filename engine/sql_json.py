"""A value inside a JSON text column, as SQL both databases run: the plans list filters on a plan's
`leadUnit` variable and on who an audit event gave a task to, without loading every row into
Python. SQLite has json_extract; PostgreSQL keeps these columns as text, so it casts to jsonb."""
from __future__ import annotations

import re

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class json_text(FunctionElement):
    """`json_text(ProcessInstance.variables_json, "leadUnit")`: the text at that path, NULL if absent.
    The path's keys are written into the SQL, so only plain identifiers are accepted."""
    type = String()
    name = "json_text"
    inherit_cache = False  # the path is not a bound parameter: each path compiles on its own

    def __init__(self, column, *path: str):
        if not path or not all(_KEY.match(key) for key in path):
            raise ValueError(f"a JSON path of plain keys, not {path!r}")
        self.path = path
        super().__init__(column)


@compiles(json_text)
def _sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"json_extract({column}, '$.{'.'.join(element.path)}')"


@compiles(json_text, "postgresql")
def _postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"(CAST({column} AS JSONB) #>> '{{{','.join(element.path)}}}')"
