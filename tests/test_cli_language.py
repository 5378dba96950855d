"""The command line speaks Chinese first, with the English in brackets: its own help and
messages, and click's usage errors and help headings (engine/click_zh.py)."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from engine import click_zh
from engine.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


def _click_messages() -> set:
    """Every message id the pinned click passes to `_` or `ngettext` (pairs for ngettext)."""
    found = set()
    for name in click_zh.CLICK_MODULES:
        tree = ast.parse((Path(click.__file__).parent / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                args = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
                found.add(args[0] if node.func.id == "_" and args else tuple(args))
    return found


def _fields(text: str) -> set[str]:
    return {f"{name}!{conv}" for _, name, _, conv in string.Formatter().parse(text) if name is not None}


def _english_core(message_id: str) -> str:
    """The longest stretch of plain words in a message id: its English must stay in the text."""
    pieces = [p.strip() for p in re.split(r"\{[^}]*\}|[.:;?!()\n\t]", message_id)]
    return max(pieces, key=len).lower()


CATALOGUE = list(click_zh.MESSAGES.items()) + [
    (ids[i], texts[i]) for ids, texts in click_zh.PLURALS.items() for i in (0, 1)]


def test_every_translated_message_is_still_one_of_clicks():
    """A click upgrade that rewords a message would leave our entry unused, silently English."""
    known = _click_messages()
    core = (Path(click.__file__).parent / "core.py").read_text(encoding="utf-8")
    if '_(extra["required"])' in core and 'extra["required"] = "required"' in core:
        known.add("required")  # translated where it is shown, from a value set elsewhere
    assert [m for m in click_zh.MESSAGES if m not in known] == []
    assert [pair for pair in click_zh.PLURALS if pair not in known] == []


@pytest.mark.parametrize("message_id, text", CATALOGUE, ids=[m for m, _ in CATALOGUE])
def test_each_translation_keeps_the_placeholders_and_the_english(message_id, text):
    assert _fields(text) == _fields(message_id)
    assert CJK.search(text)
    assert _english_core(message_id) in text.lower()


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path, command", list(_commands(main)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_and_option_explains_itself_in_chinese_and_english(path, command):
    assert CJK.search(command.help or "") and re.search(r"\([a-z]", command.help), path
    for param in command.params:
        if isinstance(param, click.Option):
            assert CJK.search(param.help or "") and "(" in param.help, (path, param.name)


def test_help_and_usage_errors_are_in_chinese_with_the_english():
    runner = CliRunner()
    shown = runner.invoke(main, ["tasks", "--help"]).output
    assert shown.startswith("用法 (Usage): main tasks [OPTIONS]")
    assert "选项 (Options):" in shown and "[必填 (required)]" in shown and "[默认 (default): all]" in shown
    assert "命令 (Commands):" in runner.invoke(main, ["--help"]).output
    wrong = runner.invoke(main, ["tasks", "--as", "li", "--sope", "mine"])
    assert wrong.exit_code == 2
    assert ("错误 (Error)：没有选项 '--sope' (No such option '--sope'). (是否想用其中之一 (Did you mean one of): "
            "'--as', '--json', '--scope'?)") in wrong.stderr
    assert "运行 'main tasks --help' 查看帮助 (Try 'main tasks --help' for help)." in wrong.stderr
    missing = runner.invoke(main, ["claim", "7"])
    assert "缺少 --as：请用 --as 用户名 写明以谁的身份办理，如 --as chen" in missing.stderr
