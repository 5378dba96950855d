"""click's own messages (usage errors, help headings) said like every other message of the
command line: Chinese first, the English in brackets.

click looks each of them up through `gettext` (`_` and `ngettext`, bound in each of its
modules at import). gettext picks a catalogue from the locale variables, and a server's are
usually C or en_US, so setting a language there could not make Chinese the default; instead
`use_chinese` hands click's modules this catalogue. A message click has that is not here stays
in English. The catalogue is handed over for the whole process once engine.cli is imported
(another click program in the same process would speak it too). tests/test_cli_language.py checks that every entry still is a message of the click
we pin, keeps its placeholders and its English.
"""
from __future__ import annotations

import importlib

# message id -> text; the ids are click 8.5's, verbatim.
MESSAGES = {
    "Usage:": "用法 (Usage):",
    "Options": "选项 (Options)",
    "Commands": "命令 (Commands)",
    "Positional arguments": "位置参数 (Positional arguments)",
    "Show this message and exit.": "显示本帮助并退出 (Show this message and exit).",
    "required": "必填 (required)",
    "default: {default}": "默认 (default): {default}",
    "env var: {var}": "环境变量 (env var): {var}",
    "Aborted!": "已中止 (Aborted!)",
    "Repeat for confirmation": "再输入一次以确认 (Repeat for confirmation)",
    "Error: The two entered values do not match.": "错误 (Error)：两次输入不一致 (The two entered values do not match).",
    "Error: {message}": "错误 (Error)：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助 (Try '{command} {option}' for help).",
    "Missing command.": "缺少命令 (Missing command).",
    "Missing argument": "缺少参数 (Missing argument)",
    "Missing option": "缺少选项 (Missing option)",
    "Missing parameter": "缺少参数 (Missing parameter)",
    "Missing parameter: {param_name}": "缺少参数 {param_name} (Missing parameter: {param_name})",
    "No such option {name!r}.": "没有选项 {name!r} (No such option {name!r}).",
    "No such command {name!r}.": "没有命令 {name!r} (No such command {name!r}).",
    "Invalid value for {param_hint}: {message}": "{param_hint} 取值无效 (invalid value for {param_hint})：{message}",
    "Invalid value: {message}": "取值无效 (invalid value)：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值 (Option {name!r} does not take a value).",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值 (Argument {name!r} takes {nargs} values).",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r} (Could not open file {filename!r})：{message}",
    "file": "文件 (file)",
    "directory": "目录 (directory)",
    "path": "路径 (path)",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在 (does not exist).",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是目录 (is a file).",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，不是文件 (is a directory).",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读 (is not readable).",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写 (is not writable).",
    "Choose from:\n\t{choices}": "可选 (Choose from):\n\t{choices}",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内 ({value} is not in the range {range}).",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数 ({value!r} is not a valid {number_type}).",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} 不是有效的是非值，可用 {states} ({value!r} is not a valid boolean)",
}

# (singular, plural) ids -> (singular, plural) texts
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多余的参数 ({args}) (Got unexpected extra argument ({args}))",
         "多余的参数 ({args}) (Got unexpected extra arguments ({args}))"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("是否想用 {possibility}？(Did you mean {possibility}?)",
         "(是否想用其中之一 (Did you mean one of): {possibilities}?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name!r} 需要一个值 (Option {name!r} requires an argument).",
         "选项 {name!r} 需要 {nargs} 个值 (Option {name!r} requires {nargs} arguments)."),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个值，只给了 1 个 (Takes {nargs} values but 1 was given).",
         "需要 {nargs} 个值，给了 {len} 个 (Takes {nargs} values but {len} were given)."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} 不是 {choice} ({value!r} is not {choice}).",
         "{value!r} 不是 {choices} 之一 ({value!r} is not one of {choices})."),
}

# click's modules that bind `_` / `ngettext` from gettext at import
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    texts = PLURALS.get((singular, plural))
    if texts is None:
        return singular if n == 1 else plural
    return texts[0] if n == 1 else texts[1]


def use_chinese() -> None:
    """Make click say its messages from this catalogue. Idempotent."""
    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext

