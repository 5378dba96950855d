"""The `reformflow` command line: one engine call per command, `--json` for scripts.

Refused actions exit non-zero with one line on stderr; with --json they also print
{"error": kind, "message": ...} on stdout. Exit codes: 3 invalid, 4 forbidden, 5 not found,
6 conflict, 7 unauthorized (an API token refused; 2 stays click's usage error).

Each family of commands is a module of this package (people, calendar, processes, plans,
tasks, reports, ...); importing them below is what hangs their commands on `main`. setup.cfg's
console script is `run`.
"""
from __future__ import annotations

import json
import sys

import click

from ..click_zh import use_chinese

use_chinese()  # before the command modules below build their options: a path option names its kind when declared

# each module registers its commands on `main` as it is imported
from . import database, people, people_import, calendar, tokens, delegate, processes  # noqa: E402, F401
from . import plans, tasks, documents, reports, worker, mail, audit  # noqa: E402, F401
from .shared import main  # noqa: E402


def run() -> None:
    """The console script: like `main`, but a usage error (a bad option, a missing file) is
    answered in JSON too when --json was asked for, as every other refusal is."""
    try:
        # the name in usage lines is the command people type, however Python was started
        # (click would say "python -m pytest" under `python -m pytest`)
        main(prog_name="reformflow", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已中止 (Aborted!)", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        message = exc.format_message()
        misplaced = isinstance(exc, click.NoSuchOption) and exc.option_name in GLOBAL_OPTIONS
        if misplaced:  # `reformflow check --db URL`: click only knows the command has no --db
            usage = f"reformflow {exc.option_name} {GLOBAL_OPTIONS[exc.option_name]}"
            message = (f"全局选项须写在命令之前：{usage} <命令> … (global options go before the command: "
                       f"{usage} <command> …)")
        elif isinstance(exc, click.NoSuchOption) and exc.option_name == "--json" and exc.ctx \
                and exc.ctx.command is main:  # `reformflow --json tasks`: --json belongs to each command
            misplaced = True
            message = ("--json 须写在命令之后：reformflow <命令> … --json "
                       "(--json goes after the command: reformflow <command> … --json)")
        if "--json" in sys.argv[1:]:
            click.echo(json.dumps({"error": "invalid", "message": message}, ensure_ascii=False))
        if isinstance(exc, click.BadParameter) or misplaced:  # a refusal like any other: one line
            click.echo(f"reformflow: invalid: {message}", err=True)
        else:
            exc.show()
        sys.exit(exc.exit_code)


# The options of `main` itself, valid only before the command (with what follows each).
GLOBAL_OPTIONS = {"--db": "URL", "--now": "ISO8601"}
