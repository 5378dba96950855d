"""Safe expression language for BPMN conditions, timers and script tasks.

Why this module exists: BPMN diagrams are uploaded by users and are therefore
untrusted.  SpiffWorkflow would run their conditions and scripts with Python's
eval/exec, which would hand the author of a diagram the whole server.  Here an
expression is parsed into a Python syntax tree with ``ast.parse`` (which only
builds a tree, it never runs anything), checked against a short whitelist and
then interpreted node by node by this module.

Two surface syntaxes are accepted and end up in the same interpreter:

* JUEL as written in Camunda Modeler, wrapped in ``${...}`` or ``#{...}``.
  A small tokenizer rewrites it into Python expression source (``&&`` -> and,
  ``eq`` -> ==, ``a ? b : c`` -> ``(b if a else c)``, ``empty x`` ->
  ``empty(x)`` ...).  String literals are re-emitted with ``repr`` so their
  content can never be mistaken for code.
* Plain Python-style expressions such as ``days >= 30 and not exploratory``.

What a security reviewer should check:

* Nothing here calls eval, exec or compile (a test asserts this).
* Only the node kinds in ``_Validator`` are accepted; everything else is
  refused at compile time with an ``ExpressionError`` naming the construct.
* ``a.b`` is a key lookup on a Mapping, never ``getattr``; names and keys
  written with a leading ``_`` are refused at compile time.
* Calls can only reach ``BUILTIN_FUNCTIONS`` or functions that the host
  passes in explicitly; the called name is fixed at compile time.
* Source length, node count and nesting depth are bounded at compile time.
  At run time strings/lists built with ``+`` or ``*`` are bounded before they
  are built, list/tuple/dict literals (which can repeat a value too) when they
  are built, and integer results are bounded in magnitude.

Semantics follow Python, not Java EL: no implicit type coercion (``1 == '1'``
is false, ``'a' + 1`` is an EvaluationError), ``and``/``or`` return one of
their operands, ``/`` is true division, ``%`` only works on numbers.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import io
import keyword
import math
import numbers
import operator
import re
import tokenize
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from .errors import BilingualValueError

__all__ = [
    "BUILTIN_FUNCTIONS",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "Script",
    "compile_expression",
    "compile_script",
    "evaluate",
    "is_wrapped",
    "spend",
    "work_budget",
]

MAX_SOURCE_LENGTH = 2000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_SEQUENCE_SIZE = 100_000
MAX_INTEGER = 10**18
MAX_SCRIPT_LENGTH = 20_000
# Items the size checks may visit in one engine command (every script, condition, due date and
# timer evaluated while the engine settles one action on one plan; an expression evaluated on its
# own gets a budget of its own): each + of two 100 000-item lists visits them all, and 740 such
# lines in one script took 27 s. Spending all of it takes 1-3 s. Counting working days is charged
# too (engine/deadlines.py, WORK_PER_DAY a day walked), and so is a script -> gateway -> script loop:
# each pass spends from the same budget.
MAX_WORK = 2_000_000
# Levels of lists and dicts a value a script sets may hold, as in data a person submits
# (engine/forms.py check_submitted): a script nesting [[…a…]] again and again built a value that
# saving the plan failed on (RecursionError in json, an error 500 and nothing saved).
MAX_DATA_DEPTH = 32
_work: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("reformflow_expression_work", default=None)


class ExpressionError(BilingualValueError):
    """An expression was refused: bad syntax, a forbidden construct or a limit. The message is
    Chinese first with the English in brackets; `zh` and `en` hold the two parts."""


class EvaluationError(ExpressionError):
    """A valid expression failed while it was being evaluated."""


class TypeMismatch(EvaluationError):
    """Values of types that do not go together: a number compared with text, text added to a
    number. Wrong whatever the values, so `check` finds it with one value of each form field;
    `plain`: (zh, en) without the value it met, which for `check` is only a sample."""

    def __init__(self, zh: str, en: str, plain: tuple[str, str] | None = None):
        super().__init__(zh, en)
        self.plain = plain or (zh, en)


class UndefinedVariable(EvaluationError):
    """The expression names a variable the plan does not have (yet): data, not the diagram, is
    usually what is missing, so the refusal names it."""

    def __init__(self, name: str):
        super().__init__(f"变量 {name} 没有值", f"variable '{name}' is not defined")
        self.name = name


# ---------------------------------------------------------------------------
# Functions callable from expressions
# ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    """Short type name for error messages."""
    return "null" if value is None else type(value).__name__


def _require_str(function: str, *values: Any) -> None:
    for value in values:
        if not isinstance(value, str):
            raise EvaluationError(f"{function}() 的参数须为字符串，不能是 {_type_name(value)}",
                                  f"{function}() expects strings, not {_type_name(value)}")


def _str(value: Any = "") -> str:
    """str() of scalars only: str() of a container could expand shared items without bound."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return str(value)
    raise EvaluationError(f"str() 只接受字符串、数字、布尔值或 null，不能是 {_type_name(value)}",
                          f"str() accepts a string, number, boolean or null, not {_type_name(value)}")


def _round(number: Any, ndigits: Any = None) -> Any:
    """round() with a bounded ndigits: round(5, -10**18) would compute 10**(10**18)."""
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > 100):
        raise EvaluationError("round() 的位数须为 -100 到 100 之间的整数",
                              "round() needs a whole number of digits between -100 and 100")
    return round(number, ndigits)


def _lower(text: str) -> str:
    _require_str("lower", text)
    return text.lower()


def _upper(text: str) -> str:
    _require_str("upper", text)
    return text.upper()


def _contains(container: Any, item: Any) -> bool:
    return item in container


def _starts_with(text: str, prefix: str) -> bool:
    _require_str("startsWith", text, prefix)
    return text.startswith(prefix)


def _ends_with(text: str, suffix: str) -> bool:
    _require_str("endsWith", text, suffix)
    return text.endswith(suffix)


BUILTIN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "size": len,
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "float": float,
    "str": _str,
    "bool": bool,
    "round": _round,
    "lower": _lower,
    "upper": _upper,
    "contains": _contains,
    "startsWith": _starts_with,
    "endsWith": _ends_with,
}

# Names that are constants in both syntaxes (True/False/None are already
# constants in Python's grammar).
_CONSTANT_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None}

# "empty x" is an operator; in Python-style text it is written empty(x).
_EMPTY = "empty"


# ---------------------------------------------------------------------------
# JUEL -> Python source
# ---------------------------------------------------------------------------

_WRAPPED = re.compile(r"\s*[$#]\{(.*)\}\s*\Z", re.DOTALL)

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%?:.,()\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)

# JUEL words and symbols with a direct Python spelling.
_JUEL_WORDS = {
    "and": "and", "or": "or", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "div": "/", "mod": "%", "in": "in",
    "true": "True", "false": "False", "null": "None",
}
_JUEL_SYMBOLS = {"&&": "and", "||": "or"}
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_CLOSING = {"(": ")", "[": "]"}


class _Token:
    """One JUEL token: kind is 'number', 'string', 'ident' or 'op'."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text in words


class _Group:
    """A bracketed part of a JUEL expression: '(' or '[' plus its items."""

    __slots__ = ("open", "items")

    def __init__(self, open_: str) -> None:
        self.open = open_
        self.items: list[_Token | _Group] = []


def is_wrapped(text: str) -> bool:
    """True for JUEL-style text: ``${...}`` or ``#{...}`` (surrounding whitespace allowed)."""
    return isinstance(text, str) and _WRAPPED.match(text) is not None


def _tokenize_juel(text: str) -> list[_Token]:
    """Split JUEL text into tokens; strings are decoded so '&&' or 'eq' inside them stay data."""
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(*_unexpected_character(text, position))
        kind = match.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        position = match.end()
    return tokens


def _unexpected_character(text: str, position: int) -> tuple[str, str]:
    """(Chinese, English): why the tokenizer stopped at text[position]; where, by the text before
    it (a position counted inside ${...} was read as counted from the start of the condition)."""
    char = text[position]
    where = _text_before(text, position)
    at_zh, at_en = (f"「{where}」之后", f"after `{where}`") if where else ("开头", "at the start")
    if char in "'\"":
        return f"{at_zh}的字符串缺少结束引号 {char}", f"the string {at_en} has no closing {char}"
    if char == "=":
        return ("表达式中不能用 '='（比较请用 '=='）", "'=' is not allowed in an expression (use '==' to compare)")
    if char in "{}":
        return "${...} 中不能出现 '{' 或 '}'", "'{' and '}' are not allowed inside ${...}"
    return _full_width(char, where) or (f"{at_zh}的字符 {char!r} 无法识别", f"unexpected character {char!r} {at_en}")


def _text_before(text: str, position: int, length: int = 20) -> str:
    """Up to `length` characters before text[position], to show where it is (`${` at the start)."""
    start = max(0, position - length)
    before = text[start:position].strip()
    return ("…" if start else "") + before if before else ""


# Punctuation a Chinese input method types instead of ASCII's, outside the full-width block
# U+FF01–U+FF5E (which is ASCII + 0xFEE0).
_FULL_WIDTH_OTHERS = {"‘": "'", "’": "'", "“": '"', "”": '"', "\u3000": " ", "、": ",", "。": "."}


def half_width(char: str) -> str | None:
    """The ASCII character a full-width one stands for (＝ → =, ‘ → '), or None."""
    if "\uff01" <= char <= "\uff5e":
        return chr(ord(char) - 0xFEE0)
    return _FULL_WIDTH_OTHERS.get(char)


def _full_width(char: str, where: str | None = None) -> tuple[str, str] | None:
    """(Chinese, English) for a full-width character where an expression needs ASCII."""
    ascii_char = half_width(char)
    if ascii_char is None:
        return None
    at_zh, at_en = ("", "") if where is None else ("（在开头）", " (at the start)") if not where else \
        (f"（在「{where}」之后）", f" (after `{where}`)")
    quote = '"' if ascii_char == "'" else "'"
    return (f"全角字符「{char}」{at_zh}，请改为半角「{ascii_char}」（切换到英文输入法输入）",
            f"full-width {quote}{char}{quote}{at_en}: write {quote}{ascii_char}{quote} (type it with the English "
            "input method)")


def _feel(source: str) -> tuple[str, str] | None:
    """A Camunda 8 condition (FEEL: `=decision = "approve"`), with what to write instead."""
    body = source.strip()
    if not body.startswith("=") or body.startswith("=="):
        return None
    juel = re.sub(r"(?<![=!<>])=(?!=)", "==", body[1:].strip()).replace('"', "'")
    return (f"这是 Camunda 8 的 FEEL 写法（以 = 开头），reformflow 读 Camunda 7 的 JUEL：请写成 ${{{juel}}}",
            f"this is Camunda 8's FEEL (it starts with =); reformflow reads Camunda 7's JUEL: write ${{{juel}}}")


def _group_tokens(tokens: list[_Token]) -> _Group:
    """Nest tokens by brackets, refusing unbalanced or too deeply nested brackets."""
    root = _Group("")
    stack = [root]
    for token in tokens:
        if token.is_op("(", "["):
            group = _Group(token.text)
            stack[-1].items.append(group)
            stack.append(group)
            if len(stack) > MAX_DEPTH:
                raise ExpressionError(*_too_deep())
        elif token.is_op(")", "]"):
            if len(stack) == 1 or _CLOSING[stack[-1].open] != token.text:
                raise ExpressionError(f"括号 {token.text!r} 不配对", f"unbalanced {token.text!r}")
            stack.pop()
        else:
            stack[-1].items.append(token)
    if len(stack) > 1:
        raise ExpressionError(f"缺少 {_CLOSING[stack[-1].open]!r}", f"missing {_CLOSING[stack[-1].open]!r}")
    return root


def _too_deep() -> tuple[str, str]:
    return f"表达式嵌套过深（上限 {MAX_DEPTH} 层）", f"expression is nested too deeply (limit {MAX_DEPTH})"


def _juel_to_python(text: str) -> str:
    """Rewrite the inside of ${...} into equivalent Python expression source."""
    root = _group_tokens(_tokenize_juel(text))
    return _render_list(root.items, 0)


def _check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(*_too_deep())


def _render_list(items: list, depth: int) -> str:
    """Render comma-separated parts (function arguments, list items, top level)."""
    parts: list[list] = [[]]
    for item in items:
        if isinstance(item, _Token) and item.is_op(","):
            parts.append([])
        else:
            parts[-1].append(item)
    return ", ".join(_render_ternary(part, depth) for part in parts)


def _render_ternary(items: list, depth: int) -> str:
    """``a ? b : c`` has the lowest precedence, so split at the first top-level '?'."""
    _check_depth(depth)
    question = next((i for i, item in enumerate(items) if _is_op(item, "?")), None)
    if question is None:
        return _render_operators(items, depth)
    colon = _matching_colon(items, question)
    condition, then, other = items[:question], items[question + 1:colon], items[colon + 1:]
    if not condition or not then or not other:
        raise ExpressionError("条件表达式 'a ? b : c' 不完整", "incomplete conditional expression 'a ? b : c'")
    return (
        f"({_render_ternary(then, depth + 1)} if {_render_operators(condition, depth + 1)}"
        f" else {_render_ternary(other, depth + 1)})"
    )


def _matching_colon(items: list, question: int) -> int:
    nested = 0
    for index in range(question + 1, len(items)):
        if _is_op(items[index], "?"):
            nested += 1
        elif _is_op(items[index], ":"):
            if nested == 0:
                return index
            nested -= 1
    raise ExpressionError("'?' 缺少对应的 ':'", "'?' without a matching ':'")


def _is_op(item: Any, *texts: str) -> bool:
    return isinstance(item, _Token) and item.is_op(*texts)


def _is_word(item: Any, *words: str) -> bool:
    return isinstance(item, _Token) and item.is_word(*words)


def _render_operators(items: list, depth: int) -> str:
    """Render a run of tokens without top-level commas or '?'."""
    _check_depth(depth)
    out: list[str] = []
    index = 0
    while index < len(items):
        item = items[index]
        following = items[index + 1] if index + 1 < len(items) else None
        if _is_word(item, "not") and _is_word(following, "in"):
            out.append("not in")
            index += 2
        elif _is_op(item, "!") or _is_word(item, "not", _EMPTY):
            end = _operand_end(items, index + 1, item.text)
            operand = _render_operators(items[index + 1:end], depth + 1)
            out.append(f"{_EMPTY}({operand})" if item.text == _EMPTY else f"(not {operand})")
            index = end
        elif _is_op(item, ".") and _is_ident(following):
            # Property names are data: a keyword such as form.class becomes form['class'].
            name = following.text
            out.append(f"[{name!r}]" if keyword.iskeyword(name) else f".{name}")
            index += 2
        else:
            out.append(_render_item(item, depth))
            index += 1
    return " ".join(out)


def _is_ident(item: Any) -> bool:
    """Any identifier, including words such as 'and' or 'class' (used after '.')."""
    return isinstance(item, _Token) and item.kind == "ident"


def _operand_end(items: list, start: int, operator_text: str) -> int:
    """End index of the operand of a JUEL unary operator (!, not, empty).

    JUEL unary operators bind tighter than any binary operator, so the operand
    is: further unary operators, one value, then '.name', '[...]', '(...)'.
    """
    index = start
    while index < len(items) and (_is_op(items[index], "!", "-", "+") or _is_word(items[index], "not", _EMPTY)):
        index += 1
    if index >= len(items) or not _is_value(items[index]):
        raise ExpressionError(f"'{operator_text}' 后面须跟一个值", f"'{operator_text}' must be followed by a value")
    index += 1
    while index < len(items):
        item = items[index]
        if _is_op(item, ".") and index + 1 < len(items) and _is_ident(items[index + 1]):
            index += 2
        elif isinstance(item, _Group):
            index += 1
        else:
            break
    return index


def _is_value(item: Any) -> bool:
    if isinstance(item, _Group):
        return True
    if item.kind == "ident":
        return item.text not in ("and", "or", "not", "in", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod")
    return item.kind in ("number", "string")


def _render_item(item: _Token | _Group, depth: int) -> str:
    if isinstance(item, _Group):
        return item.open + _render_list(item.items, depth + 1) + _CLOSING[item.open]
    if item.kind == "string":
        return repr(_decode_string(item.text))
    if item.kind == "number":
        return _render_number(item.text)
    if item.kind == "ident":
        return _JUEL_WORDS.get(item.text, item.text)
    return _JUEL_SYMBOLS.get(item.text, item.text)


def _decode_string(literal: str) -> str:
    """Decode a quoted JUEL string; unknown escapes keep their backslash."""
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(0)), body, flags=re.DOTALL)


def _render_number(text: str) -> str:
    """Canonical Python spelling of a JUEL number ('007' is not valid Python)."""
    if re.fullmatch(r"[0-9]+", text):
        return str(int(text))
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ExpressionError(f"数字 {text} 超出范围", f"number {text} is out of range")
    return repr(value)


# ---------------------------------------------------------------------------
# Parsing and whitelist validation
# ---------------------------------------------------------------------------


def _check_bracket_depth(source: str) -> None:
    """Refuse deeply nested brackets, which leave no trace in the syntax tree."""
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.OP:
                continue
            if token.string in ("(", "[", "{"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ExpressionError(*_too_deep())
            elif token.string in (")", "]", "}"):
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return  # ast.parse below reports the syntax problem


def _parse(source: str) -> ast.Expression:
    """ast.parse only builds a tree; nothing in the text is executed."""
    _check_bracket_depth(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences in user text
            return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        invalid = re.match(r"invalid character '(.)'", exc.msg or "")
        if invalid and half_width(invalid.group(1)):  # said as the ${...} tokenizer says it
            where = _text_before(source, exc.offset - 1) if exc.offset else None
            raise ExpressionError(*_full_width(invalid.group(1), where)) from None
        raise ExpressionError("表达式有语法错误", f"syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError("表达式无法解析", f"expression could not be parsed: {exc}") from None


_BINARY_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}
_ALLOWED_BINARY = frozenset({ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod})
_ALLOWED_UNARY = frozenset({ast.Not, ast.USub, ast.UAdd})
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_OPERATOR_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)

_REFUSED = {  # (Chinese, English)
    ast.Lambda: ("不允许使用 lambda 表达式", "lambda expressions are not allowed"),
    ast.ListComp: ("不允许使用列表推导式", "list comprehensions are not allowed"),
    ast.SetComp: ("不允许使用集合推导式", "set comprehensions are not allowed"),
    ast.DictComp: ("不允许使用字典推导式", "dict comprehensions are not allowed"),
    ast.GeneratorExp: ("不允许使用生成器表达式", "generator expressions are not allowed"),
    ast.NamedExpr: ("不允许使用赋值表达式（:=）", "assignment expressions (:=) are not allowed"),
    ast.JoinedStr: ("不允许使用 f-string", "f-strings are not allowed"),
    ast.FormattedValue: ("不允许使用 f-string", "f-strings are not allowed"),
    ast.Starred: ("不允许使用星号（*）表达式", "starred (*) expressions are not allowed"),
    ast.Set: ("不允许使用集合字面量", "set literals are not allowed"),
    ast.Await: ("不允许使用 'await'", "'await' is not allowed"),
    ast.Yield: ("不允许使用 'yield'", "'yield' is not allowed"),
    ast.YieldFrom: ("不允许使用 'yield'", "'yield' is not allowed"),
}


def _is_none_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (
        isinstance(node, ast.Name) and node.id == "null"
    )


def _refuse_private(name: str) -> None:
    if name.startswith("_"):
        raise ExpressionError(f"不允许使用以 '_' 开头的名称：{name!r}", f"names starting with '_' are not allowed: {name!r}")


def _operand(node: ast.AST) -> str:
    """A piece of an expression written back, in brackets unless it is one value."""
    text = ast.unparse(node)
    return text if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Call)) else f"({text})"


# Java's methods an analyst writes in JUEL (`decision.equals('approve')`, `list.size()`) -> how many
# arguments, and what to write here instead: x is the object, y the argument.
_METHODS = {"equals": (1, "{x} == {y}"), "upper": (0, "upper({x})"), "lower": (0, "lower({x})"),
            "toUpperCase": (0, "upper({x})"), "toLowerCase": (0, "lower({x})"),
            "size": (0, "size({x})"), "length": (0, "size({x})"), "contains": (1, "contains({x}, {y})"),
            "startsWith": (1, "startsWith({x}, {y})"), "endsWith": (1, "endsWith({x}, {y})"), "isEmpty": (0, "empty {x}")}


def _method_call(node: ast.Call, parent: ast.AST | None) -> tuple[str, str]:
    """Why a method call is refused (Chinese, English), with what to write instead where the
    language has it: `decision.equals('approve')` -> `decision == 'approve'`."""
    generic = ("只能调用具名函数，如 lower(x)，不能调用方法", "only calls of named functions such as lower(x) are allowed")
    method = node.func.attr if isinstance(node.func, ast.Attribute) else None
    if method not in _METHODS or node.keywords or len(node.args) != _METHODS[method][0]:
        return generic
    written = ast.unparse(node)
    instead = _METHODS[method][1].format(x=_operand(node.func.value), y=_operand(node.args[0]) if node.args else "")
    if method == "equals" and isinstance(parent, (ast.UnaryOp, ast.BinOp, ast.Compare)):
        instead = f"({instead})"  # !a.equals(b) is !(a == b), not (!a) == b
    return (f"不能调用方法 .{method}()：请把 {written} 改写为 {instead}",
            f"methods cannot be called: write {instead} instead of {written}")


class _Validator:
    """Walks a parsed tree once, refusing anything outside the whitelist.

    Iterative on purpose: the depth limit is checked before anything recurses.
    Also collects the variable and function names the expression uses.
    """

    def __init__(self, function_names: frozenset[str]) -> None:
        self.function_names = function_names
        self.names: set[str] = set()
        self.functions: set[str] = set()

    def run(self, tree: ast.Expression) -> None:
        stack: list[tuple[ast.AST, int, ast.AST | None]] = [(tree, 0, None)]
        count = 0
        while stack:
            node, depth, parent = stack.pop()
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(f"表达式过大（上限 {MAX_NODES} 个元素）",
                                      f"expression is too large (limit {MAX_NODES} elements)")
            if depth > MAX_DEPTH:
                raise ExpressionError(*_too_deep())
            check = self._CHECKS.get(type(node))
            if check is None:
                name = type(node).__name__
                raise ExpressionError(*_REFUSED.get(type(node), (f"不允许使用 {name}", f"{name} is not allowed")))
            check(self, node, parent)
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, _OPERATOR_NODES):
                    stack.append((child, depth + 1, node))

    def _ok(self, node: ast.AST, parent: ast.AST | None) -> None:
        pass

    def _expression(self, node: ast.Expression, parent: ast.AST | None) -> None:
        if parent is not None:
            raise ExpressionError("不允许嵌套的 Expression 节点", "nested Expression nodes are not allowed")

    def _bin_op(self, node: ast.BinOp, parent: ast.AST | None) -> None:
        if type(node.op) not in _ALLOWED_BINARY:
            symbol = _BINARY_SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"不允许使用运算符 '{symbol}'", f"operator '{symbol}' is not allowed")

    def _unary_op(self, node: ast.UnaryOp, parent: ast.AST | None) -> None:
        if type(node.op) not in _ALLOWED_UNARY:
            raise ExpressionError("不允许使用运算符 '~'", "operator '~' is not allowed")

    def _compare(self, node: ast.Compare, parent: ast.AST | None) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.Is, ast.IsNot)) and not (_is_none_literal(left) or _is_none_literal(right)):
                raise ExpressionError("'is' / 'is not' 只能用于与 None 比较",
                                      "'is' / 'is not' may only be used to compare with None")
            left = right

    def _constant(self, node: ast.Constant, parent: ast.AST | None) -> None:
        value = node.value
        if not isinstance(value, _CONSTANT_TYPES):
            raise ExpressionError(f"不允许使用 {_type_name(value)} 类型的字面量", f"{_type_name(value)} literals are not allowed")
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            raise ExpressionError("整数字面量过大（上限 10**18）", "integer literal is too large (limit 10**18)")
        if isinstance(value, float) and not math.isfinite(value):  # 1e400 is inf: not JSON
            raise ExpressionError("数字字面量超出范围", "number literal is out of range")

    def _name(self, node: ast.Name, parent: ast.AST | None) -> None:
        _refuse_private(node.id)
        is_callee = isinstance(parent, ast.Call) and parent.func is node
        if node.id == _EMPTY and not is_callee:
            raise ExpressionError("'empty' 是运算符：请写作 'empty(x)' 或 '${empty x}'",
                                  "'empty' is an operator: write 'empty(x)' or '${empty x}'")
        if not is_callee and node.id not in _CONSTANT_NAMES:
            self.names.add(node.id)

    def _attribute(self, node: ast.Attribute, parent: ast.AST | None) -> None:
        _refuse_private(node.attr)

    def _slice(self, node: ast.Slice, parent: ast.AST | None) -> None:
        if not (isinstance(parent, ast.Subscript) and parent.slice is node):
            raise ExpressionError("不允许这种切片", "this kind of slice is not allowed")
        if node.step is not None:
            raise ExpressionError("不允许带步长的切片", "slices with a step are not allowed")

    def _dict(self, node: ast.Dict, parent: ast.AST | None) -> None:
        if any(key is None for key in node.keys):
            raise ExpressionError("不允许字典解包（**）", "dict unpacking (**) is not allowed")

    def _call(self, node: ast.Call, parent: ast.AST | None) -> None:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(*_method_call(node, parent))
        if node.keywords:
            raise ExpressionError("函数调用中不允许使用关键字参数", "keyword arguments are not allowed in function calls")
        name = node.func.id
        _refuse_private(name)
        if name == _EMPTY:
            if len(node.args) != 1:
                raise ExpressionError("'empty' 只能有一个操作数", "'empty' takes exactly one operand")
            return
        if name not in BUILTIN_FUNCTIONS and name not in self.function_names:
            raise ExpressionError(f"不允许调用函数 '{name}'", f"function '{name}' is not allowed")
        self.functions.add(name)

    _CHECKS: dict[type, Callable[..., None]] = {
        ast.Expression: _expression,
        ast.BoolOp: _ok,
        ast.BinOp: _bin_op,
        ast.UnaryOp: _unary_op,
        ast.Compare: _compare,
        ast.IfExp: _ok,
        ast.Constant: _constant,
        ast.Name: _name,
        ast.Attribute: _attribute,
        ast.Subscript: _ok,
        ast.Slice: _slice,
        ast.List: _ok,
        ast.Tuple: _ok,
        ast.Dict: _dict,
        ast.Call: _call,
    }


# ---------------------------------------------------------------------------
# Interpreter
# ---------------------------------------------------------------------------

_MISSING = object()  # result of a failed lookup inside 'empty'


def _describe(node: ast.AST) -> str:
    """Source text of a (validated, shallow) node for error messages."""
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


@contextmanager
def work_budget() -> Iterator[None]:
    """MAX_WORK for what runs inside, unless an outer budget (a whole script, or the engine
    command evaluating it: engine/runtime.py `run`) already counts."""
    if _work.get() is not None:
        yield
        return
    token = _work.set([MAX_WORK])
    try:
        yield
    finally:
        _work.reset(token)


def _too_much_work() -> EvaluationError:
    return EvaluationError(f"计算量过大（一次操作的脚本、条件和期限合计上限 {MAX_WORK} 步）",
                           f"too much work (limit {MAX_WORK} steps for the scripts, conditions and deadlines of "
                           "one action)")


def spend(units: int) -> None:
    """Charge `units` of work to the budget under way (see MAX_WORK), for a function that does
    work the size checks do not see (counting working days day by day); outside any evaluation,
    nothing to charge. Raises EvaluationError once the budget is spent."""
    budget = _work.get()
    if budget is None or units <= 0:
        return
    budget[0] -= units
    if budget[0] < 0:
        raise _too_much_work()


def _size(value: Any, limit: int = MAX_SEQUENCE_SIZE) -> int:
    """Characters plus items, counting nested and shared items every time; stops past limit.
    Every item visited is spent from the work budget."""
    total = 0
    stack = [value]
    budget = _work.get() or [MAX_WORK]
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            raise _too_much_work()
        item = stack.pop()
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            if total <= limit:
                stack.extend(item)
        if total > limit:
            return total
    return total


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number)


def _text_among_numbers(values: Any) -> str | None:
    """The text among values that hold a number too: a property written '15天' where a number
    belongs (max(7, '15天')) is text, and Python's TypeError said so only in its own words."""
    if any(_is_number(value) and not isinstance(value, bool) for value in values):
        return next((value for value in values if isinstance(value, str)), None)
    return None


def _number_expected(*values: Any) -> tuple[str, str]:
    """('：须为数字，…是文本', ': a number was expected, …'), or ('', '') when no text met a number."""
    text = _text_among_numbers(values)
    if text is None:
        return "", ""
    return f"：须为数字，{text!r} 是文本", f": a number was expected, not the text {text!r}"


def _check_integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise EvaluationError("整数结果过大（上限 10**18）", "integer result is too large (limit 10**18)")
    if isinstance(value, float) and not math.isfinite(value):
        # inf and nan are not JSON: a variable holding one could not be saved or compared
        raise EvaluationError("数值结果超出范围", "number result is out of range")
    return value


def _check_concatenation(left: Any, right: Any) -> None:
    if not (_is_number(left) or _is_number(right)) and _size(left) + _size(right) > MAX_SEQUENCE_SIZE:
        raise EvaluationError(f"'+' 会生成超过 {MAX_SEQUENCE_SIZE} 个元素或字符的值",
                              f"'+' would build a value larger than {MAX_SEQUENCE_SIZE} items/characters")


def _check_literal(value: Any) -> Any:
    """[s, s, s] repeats s without '*': ten lines of such lists in a script would make a value
    of 10**10 items, which saving the plan would try to write out."""
    if _size(value) > MAX_SEQUENCE_SIZE:
        raise EvaluationError(f"列表或字典会超过 {MAX_SEQUENCE_SIZE} 个元素或字符",
                              f"a list or dict literal would be larger than {MAX_SEQUENCE_SIZE} items/characters")
    return value


def _check_repetition(left: Any, right: Any) -> None:
    for count, sequence in ((left, right), (right, left)):
        if isinstance(count, int) and not _is_number(sequence) and count > 0:
            if _size(sequence) * count > MAX_SEQUENCE_SIZE:
                raise EvaluationError(
                    f"'*' 会生成超过 {MAX_SEQUENCE_SIZE} 个元素或字符的值",
                    f"'*' would build a value larger than {MAX_SEQUENCE_SIZE} items/characters"
                )


_BINARY_FUNCTIONS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}


def _apply_binary(op: ast.operator, left: Any, right: Any) -> Any:
    """Apply + - * / // % after the size checks that keep results small."""
    symbol = _BINARY_SYMBOLS[type(op)]
    if isinstance(op, ast.Add):
        _check_concatenation(left, right)
    elif isinstance(op, ast.Mult):
        _check_repetition(left, right)
    elif isinstance(op, ast.Mod) and not (_is_number(left) and _is_number(right)):
        # '%' on strings is printf formatting ('%*d' can build huge strings).
        raise EvaluationError("'%' 只能用于数字", "'%' only works on numbers")
    try:
        result = _BINARY_FUNCTIONS[type(op)](left, right)
    except ZeroDivisionError:
        raise EvaluationError("除数为零", "division by zero") from None
    except TypeError:
        zh, en = _number_expected(left, right)
        plain = (f"{_type_name(left)} 与 {_type_name(right)} 不能做 {symbol} 运算",
                 f"unsupported operand types for {symbol}: {_type_name(left)} and {_type_name(right)}")
        raise TypeMismatch(plain[0] + zh, plain[1] + en, plain) from None
    except (OverflowError, ValueError) as exc:
        raise EvaluationError(f"'{symbol}' 运算出错", f"arithmetic error in '{symbol}': {exc}") from None
    return _check_integer(result)


_COMPARISONS = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda item, container: item in container),
    ast.NotIn: ("not in", lambda item, container: item not in container),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}


def _apply_comparison(op: ast.cmpop, left: Any, right: Any) -> Any:
    symbol, function = _COMPARISONS[type(op)]
    try:
        return function(left, right)
    except TypeError:
        if symbol in ("in", "not in"):
            raise TypeMismatch(
                f"{_type_name(left)} 和 {_type_name(right)} 之间不能用 '{symbol}'",
                f"cannot use '{symbol}' with {_type_name(left)} and {_type_name(right)}"
            ) from None
        zh, en = _number_expected(left, right)
        plain = (f"不能用 '{symbol}' 比较 {_type_name(left)} 和 {_type_name(right)}",
                 f"cannot compare {_type_name(left)} and {_type_name(right)} with '{symbol}'")
        raise TypeMismatch(plain[0] + zh, plain[1] + en, plain) from None


def _item(container: Any, key: Any, where: str) -> Any:
    """container[key] for mappings, lists, tuples and strings; _MISSING when absent."""
    if isinstance(container, Mapping):
        try:
            return container[key]
        except KeyError:
            return _MISSING
        except TypeError:
            raise EvaluationError(f"{_type_name(key)} 不能用作 {where} 的键",
                                  f"{_type_name(key)} cannot be used as a key of {where}") from None
    if isinstance(container, (list, tuple, str)):
        if not isinstance(key, int):
            raise EvaluationError(f"{where} 是 {_type_name(container)}，下标须为整数，不能是 {_type_name(key)}",
                                  f"{where} is a {_type_name(container)}: its index must be an integer, "
                                  f"not {_type_name(key)}")
        try:
            return container[key]
        except IndexError:
            return _MISSING
    raise EvaluationError(f"无法在 {where} 中查找 {key!r}：它是 {_type_name(container)}，不是映射或列表",
                          f"cannot look up {key!r} in {where}: it is {_type_name(container)}, "
                          "not a mapping or list")


def _is_empty(value: Any) -> bool:
    """JUEL 'empty': undefined, null, '' and empty collections are empty; 0 and false are not."""
    if value is _MISSING or value is None:
        return True
    try:
        return len(value) == 0
    except TypeError:
        return False


class _Interpreter:
    """Evaluates a validated tree; every node kind has one small method."""

    __slots__ = ("variables", "functions")

    def __init__(self, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> None:
        self.variables = variables
        self.functions = functions

    def run(self, node: ast.AST) -> Any:
        return self._HANDLERS[type(node)](self, node)

    def _bool_op(self, node: ast.BoolOp) -> Any:
        stop_when = isinstance(node.op, ast.Or)  # 'or' stops at a true value, 'and' at a false one
        value: Any = None
        for operand in node.values:
            value = self.run(operand)
            if bool(value) is stop_when:
                return value
        return value

    def _bin_op(self, node: ast.BinOp) -> Any:
        return _apply_binary(node.op, self.run(node.left), self.run(node.right))

    def _unary_op(self, node: ast.UnaryOp) -> Any:
        value = self.run(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        try:
            result = -value if isinstance(node.op, ast.USub) else +value
        except TypeError:
            raise EvaluationError(f"正负号不能用于 {_type_name(value)}",
                                  f"bad operand type for unary minus/plus: {_type_name(value)}") from None
        return _check_integer(result)

    def _compare(self, node: ast.Compare) -> Any:
        left = self.run(node.left)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators):
            right = self.run(comparator)
            result = _apply_comparison(op, left, right)
            if not result:
                return result
            left = right
        return result

    def _if_exp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _constant(self, node: ast.Constant) -> Any:
        return node.value

    def _name(self, node: ast.Name) -> Any:
        value = self._variable(node.id)
        if value is _MISSING:
            raise UndefinedVariable(node.id)
        return value

    def _variable(self, name: str) -> Any:
        if name in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[name]
        try:
            return self.variables[name]
        except KeyError:
            return _MISSING

    def _attribute(self, node: ast.Attribute) -> Any:
        value = self._key_of(self.run(node.value), node)
        if value is _MISSING:
            raise EvaluationError(f"{_describe(node.value)} 没有键 {node.attr!r}",
                                  f"{_describe(node.value)} has no key {node.attr!r}")
        return value

    def _key_of(self, base: Any, node: ast.Attribute) -> Any:
        """a.b means a['b'] on a mapping; Python attributes are never read."""
        if not isinstance(base, Mapping):
            raise EvaluationError(f"无法读取 {_describe(node.value)} 的 '{node.attr}'：它是 {_type_name(base)}，不是映射",
                                  f"cannot read '{node.attr}' of {_describe(node.value)}: "
                                  f"it is {_type_name(base)}, not a mapping")
        return _item(base, node.attr, _describe(node.value))

    def _subscript(self, node: ast.Subscript) -> Any:
        base = self.run(node.value)
        if isinstance(node.slice, ast.Slice):
            return self._slice(base, node)
        value = _item(base, self.run(node.slice), _describe(node.value))
        if value is _MISSING:
            raise EvaluationError(f"{_describe(node.value)} 没有键或下标 {_describe(node.slice)}",
                                  f"{_describe(node.value)} has no key or index {_describe(node.slice)}")
        return value

    def _slice(self, base: Any, node: ast.Subscript) -> Any:
        bounds = [None if part is None else self.run(part) for part in (node.slice.lower, node.slice.upper)]
        if not isinstance(base, (list, tuple, str)):
            raise EvaluationError(f"无法对 {_describe(node.value)} 切片：它是 {_type_name(base)}",
                                  f"cannot slice {_describe(node.value)}: it is {_type_name(base)}")
        if not all(bound is None or isinstance(bound, int) for bound in bounds):
            raise EvaluationError("切片的边界须为整数", "slice bounds must be integers")
        return base[bounds[0]:bounds[1]]

    def _list(self, node: ast.List) -> list:
        return _check_literal([self.run(element) for element in node.elts])

    def _tuple(self, node: ast.Tuple) -> tuple:
        return _check_literal(tuple(self.run(element) for element in node.elts))

    def _dict(self, node: ast.Dict) -> dict:
        result = {}
        for key_node, value_node in zip(node.keys, node.values):
            key = self.run(key_node)
            try:
                result[key] = self.run(value_node)
            except TypeError:
                raise EvaluationError(f"{_type_name(key)} 不能用作字典的键",
                                      f"{_type_name(key)} cannot be used as a dict key") from None
        return _check_literal(result)

    def _call(self, node: ast.Call) -> Any:
        name = node.func.id
        if name == _EMPTY:
            return _is_empty(self._lenient(node.args[0]))
        function = self._function(name)
        arguments = [self.run(argument) for argument in node.args]
        try:
            result = function(*arguments)
        except ExpressionError:
            raise
        except Exception as exc:  # a function failed on its arguments
            if isinstance(exc, BilingualValueError):  # a TimerValueError says why in both languages
                raise EvaluationError(f"{name}() 执行失败：{exc.zh}", f"{name}() failed: {exc.en}") from exc
            text = _text_among_numbers(arguments) if isinstance(exc, TypeError) else None
            if text is not None:
                raise EvaluationError(f"{name}() 执行失败：须为数字，{text!r} 是文本",
                                      f"{name}() failed: a number was expected, not the text {text!r}") from exc
            raise EvaluationError(f"{name}() 执行失败", f"{name}() failed: {exc}") from exc
        return _check_integer(result)

    def _function(self, name: str) -> Callable[..., Any]:
        """Caller-supplied functions first, then the builtins."""
        if name in self.functions:
            return self.functions[name]
        if name in BUILTIN_FUNCTIONS:
            return BUILTIN_FUNCTIONS[name]
        raise EvaluationError(f"函数 '{name}' 不可用", f"function '{name}' is not available")

    def _lenient(self, node: ast.AST) -> Any:
        """Operand of 'empty': an undefined variable, key or index gives _MISSING, not an error."""
        if isinstance(node, ast.Name):
            return self._variable(node.id)
        if isinstance(node, ast.Attribute):
            base = self._lenient(node.value)
            return _MISSING if base is _MISSING or base is None else self._key_of(base, node)
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            base = self._lenient(node.value)
            if base is _MISSING or base is None:
                return _MISSING
            return _item(base, self.run(node.slice), _describe(node.value))
        return self.run(node)

    _HANDLERS: dict[type, Callable[..., Any]] = {
        ast.BoolOp: _bool_op,
        ast.BinOp: _bin_op,
        ast.UnaryOp: _unary_op,
        ast.Compare: _compare,
        ast.IfExp: _if_exp,
        ast.Constant: _constant,
        ast.Name: _name,
        ast.Attribute: _attribute,
        ast.Subscript: _subscript,
        ast.List: _list,
        ast.Tuple: _tuple,
        ast.Dict: _dict,
        ast.Call: _call,
    }


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


class Expression:
    """A validated expression; immutable, so it is cached and shared between threads."""

    __slots__ = ("source", "names", "functions", "_body")

    def __init__(self, source: str, body: ast.AST, names: frozenset[str], functions: frozenset[str]) -> None:
        self.source = source
        self.names = names
        self.functions = functions
        self._body = body

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    @property
    def tree(self) -> ast.AST:
        """The validated syntax tree, for checks that read what an expression does with a
        variable (engine/checks/properties.py); it is shared: read it, never change it."""
        return self._body

    def evaluate(
        self,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> Any:
        """Evaluate against variables; every failure surfaces as EvaluationError."""
        if not isinstance(variables, Mapping):
            raise EvaluationError("variables 须为映射", "variables must be a mapping")
        interpreter = _Interpreter(variables, functions or {})
        try:
            with work_budget():
                return interpreter.run(self._body)
        except ExpressionError:
            raise
        except RecursionError:
            raise EvaluationError("数据嵌套过深", "data is nested too deeply") from None
        except Exception as exc:  # e.g. a host object with a failing __eq__ or __getitem__
            raise EvaluationError("求值失败", f"evaluation failed: {type(exc).__name__}: {exc}") from exc


def compile_expression(text: str, function_names: frozenset[str] = frozenset()) -> Expression:
    """Parse and validate text (JUEL ${...} or Python style); raises ExpressionError if refused."""
    if not isinstance(text, str):
        raise ExpressionError("表达式须为字符串", "an expression must be a string")
    return _compile_cached(text, frozenset(function_names or ()))


@functools.lru_cache(maxsize=1024)
def _compile_cached(text: str, function_names: frozenset[str]) -> Expression:
    if len(text) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"表达式过长（{len(text)} 个字符，上限 {MAX_SOURCE_LENGTH}）",
                              f"expression is too long ({len(text)} characters, limit {MAX_SOURCE_LENGTH})")
    wrapped = _WRAPPED.match(text)
    source = wrapped.group(1) if wrapped else text
    if not source.strip():
        raise ExpressionError("表达式为空", "expression is empty")
    feel = None if wrapped else _feel(source)
    if feel:
        raise ExpressionError(*feel)
    if wrapped:
        source = _juel_to_python(source)
    tree = _parse(source.strip())
    validator = _Validator(function_names)
    validator.run(tree)
    return Expression(text, tree.body, frozenset(validator.names), frozenset(validator.functions))


compile_expression.cache_info = _compile_cached.cache_info  # type: ignore[attr-defined]
compile_expression.cache_clear = _compile_cached.cache_clear  # type: ignore[attr-defined]


def evaluate(
    text: str,
    variables: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Compile (allowing the given function names) and evaluate in one step."""
    return compile_expression(text, frozenset(functions or ())).evaluate(variables, functions)


# ---------------------------------------------------------------------------
# Scripts: lines of "name = expression"
# ---------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"\s*([^\W\d]\w*)\s*=(?!=)(.*)\Z", re.DOTALL)
_RESERVED_TARGETS = frozenset({"true", "false", "null", _EMPTY})
# The engine's own variables (engine/commands.py `start`): who started the plan decides whose
# steps are whose, so a script may not change it, nor the plan's title and business key.
ENGINE_VARIABLES = frozenset({"initiator", "title", "businessKey"})
_ASCII_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def readable_name(name: str | None) -> bool:
    """Whether a condition can read a variable of this name: a script sets, and a form field is,
    only such a name (`变量` or `class` could be set, and every condition naming it was a syntax error)."""
    return (bool(name) and _ASCII_NAME.fullmatch(name) is not None and not keyword.iskeyword(name)
            and name not in _RESERVED_TARGETS)


class Script:
    """A validated script task: assignments run in order into the variables dict."""

    __slots__ = ("source", "assigned", "_steps")

    def __init__(self, source: str, steps: tuple[tuple[int, str, Expression], ...]) -> None:
        self.source = source
        self._steps = steps
        self.assigned: tuple[str, ...] = tuple(dict.fromkeys(name for _, name, _ in steps))

    def __repr__(self) -> str:
        return f"Script(assigned={self.assigned!r})"

    def execute(
        self,
        variables: MutableMapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> dict[str, Any]:
        """Assign each line's value into variables (later lines see earlier ones); return the assignments."""
        if not isinstance(variables, MutableMapping):
            raise EvaluationError("variables 须为可修改的映射", "variables must be a mutable mapping")
        with work_budget():  # one budget for the whole script
            return self._execute(variables, functions)

    def _execute(self, variables: MutableMapping[str, Any],
                 functions: Mapping[str, Callable[..., Any]] | None) -> dict[str, Any]:
        assigned: dict[str, Any] = {}
        total = 0  # 1000 lines of v = 'x' * 99999 wrote 500 MB into the database for each plan
        for line_number, name, expression in self._steps:
            try:
                value = expression.evaluate(variables, functions)
            except EvaluationError as exc:
                raise EvaluationError(f"第 {line_number} 行：{exc.zh}", f"line {line_number}: {exc.en}") from exc
            total += _size(value)
            if total > MAX_SEQUENCE_SIZE:
                raise EvaluationError(f"第 {line_number} 行：脚本所赋的值合计超过 {MAX_SEQUENCE_SIZE} 个元素或字符",
                                      f"line {line_number}: the values the script sets would hold more than "
                                      f"{MAX_SEQUENCE_SIZE} items/characters in all")
            if _deeper_than(value, MAX_DATA_DEPTH):
                raise EvaluationError(f"第 {line_number} 行：变量 {name} 的值嵌套超过 {MAX_DATA_DEPTH} 层（列表或字典套列表或字典）",
                                      f"line {line_number}: the value of {name} is nested more than {MAX_DATA_DEPTH} "
                                      "deep (lists or dicts within lists or dicts)")
            variables[name] = value
            assigned[name] = value
        return assigned


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether value, kept as a variable, holds lists or dicts more than `limit` levels down,
    counted as engine/forms.py counts submitted data (the variables themselves one level down).
    Called on a value already within MAX_SEQUENCE_SIZE items, each level spent from the budget."""
    level, depth = [value], 1
    while level:
        if depth > limit:
            return True
        spend(len(level))
        level = [v for item in level if isinstance(item, (Mapping, list, tuple))
                 for v in (item.values() if isinstance(item, Mapping) else item)]
        depth += 1
    return False


def _check_target(name: str, line_number: int) -> None:
    if name in ENGINE_VARIABLES:
        raise ExpressionError(f"第 {line_number} 行：{name} 是引擎自己的变量（发起人、标题、业务编号），脚本不能修改",
                              f"line {line_number}: {name} is the engine's own variable (the starter, title, business "
                              "key); a script cannot change it")
    if not readable_name(name):
        raise ExpressionError(f"第 {line_number} 行：不能给 {name!r} 赋值（变量名须为英文字母、数字和下划线，以字母开头）",
                              f"line {line_number}: cannot assign to {name!r} (a variable name is ASCII letters, "
                              "digits and underscores, starting with a letter)")


def compile_script(text: str, function_names: frozenset[str] = frozenset()) -> Script:
    """Validate a script of 'name = expression' lines; anything else is refused with its line number."""
    if not isinstance(text, str):
        raise ExpressionError("脚本须为字符串", "a script must be a string")
    if len(text) > MAX_SCRIPT_LENGTH:
        raise ExpressionError(f"脚本过长（{len(text)} 个字符，上限 {MAX_SCRIPT_LENGTH}）",
                              f"script is too long ({len(text)} characters, limit {MAX_SCRIPT_LENGTH})")
    steps = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            raise ExpressionError(
                f"第 {line_number} 行：只能写 'name = expression' 形式的赋值",
                f"line {line_number}: only assignments of the form 'name = expression' are allowed"
            )
        name, source = match.group(1), match.group(2).strip()
        _check_target(name, line_number)
        try:
            expression = compile_expression(source, function_names)
        except ExpressionError as exc:
            raise ExpressionError(f"第 {line_number} 行：{exc.zh}", f"line {line_number}: {exc.en}") from None
        steps.append((line_number, name, expression))
    return Script(text, tuple(steps))
