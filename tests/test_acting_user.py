"""Who acts, on the command line: one `--as USER` everywhere. `users update` took it and `groups
add` refused it as an unknown option; each command had its own help for it; `deploy` defaulted
to system and the others said only "Missing option '--as'" when it was left out."""
from __future__ import annotations

import json

import click
import pytest

from engine.cli import main

from .test_cli import as_json, cli, script  # noqa: F401 - the command line on a database with people
from .test_cli_language import _commands

# the operator's acts, done with the database's credentials before anyone exists to name
OPERATOR = {("deploy",), ("users", "add"), ("users", "import"), ("groups", "add"), ("audit", "export")}
MISSING = ("reformflow: invalid: 缺少 --as：请用 --as 用户名 写明以谁的身份办理，如 --as chen；在岗人员见 reformflow users "
           "list (missing --as: say as whom with --as USERNAME, e.g. --as chen; `reformflow users list` lists who is "
           "active)\n")


def _acting_options():
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option) and ("--as" in param.opts or param.name == "actor"):
                yield path, param


def test_every_command_names_who_acts_with_the_same_option_and_help():
    options = dict(_acting_options())
    assert OPERATOR <= options.keys() and len(options) > 20
    for path, option in options.items():
        assert (option.opts, option.secondary_opts, option.name, option.metavar) == (["--as"], [], "actor", "USER"), path
    helps = {path in OPERATOR: set() for path in options}
    for path, option in options.items():
        helps[path in OPERATOR].add(option.help)
        assert option.required is (path not in OPERATOR), path
        assert (option.default == "system") is (path in OPERATOR), path
    assert len(helps[True]) == 1 and len(helps[False]) == 1  # one text for each rule
    [required], [operator] = helps[False], helps[True]
    assert operator.startswith(required.split(" (")[0])  # the same words, and what leaving it out means
    assert "不写则记为 system" in operator and "left out, system" in operator


@pytest.mark.parametrize("args", [
    ["tasks"], ["claim", "1"], ["users", "update", "li", "--unit", "市财政局"], ["calendar", "set", "2027-01-02", "--off"],
    ["audit", "anchor"], ["tokens", "list"], ["delegate", "end", "1"], ["start", "mini_approval"],
])
def test_a_missing_as_is_refused_alike_with_what_to_write(script, args):  # noqa: F811
    code, out, err = script(*args)
    assert (code, out, err) == (2, "", MISSING)
    code, out, err = script(*args, "--json")
    assert code == 2 and json.loads(out)["message"] == MISSING.removeprefix("reformflow: invalid: ").rstrip("\n")


def test_groups_add_takes_as_like_users_add_and_records_who(cli):  # noqa: F811
    added = cli("groups", "add", "risk", "--display-name", "风险评估机构", "--as", "chen", "--json")
    assert as_json(added) == {"code": "risk", "display_name": "风险评估机构"}
    cli("users", "add", "wu", "--display-name", "吴敏", "--group", "risk", "--as", "chen")
    refused = cli("groups", "add", "experts", "--display-name", "专家", "--as", "li", ok=False)  # not the office
    assert refused.exit_code == 4 and "只有改革办可以添加角色 (only the reform office adds groups)" in refused.stderr
    refused = cli("users", "add", "qian", "--display-name", "钱进", "--as", "li", ok=False)
    assert refused.exit_code == 4
    cli("groups", "add", "experts", "--display-name", "专家")  # the operator, as before
    trail = [json.loads(line) for line in cli("audit", "export").stdout.splitlines()]
    added = [(e["actor"], e["event_type"], json.loads(e["payload"]).get("code") or json.loads(e["payload"])["username"])
             for e in trail if e["event_type"] in ("group_added", "user_added")]
    assert added[-3:] == [("chen", "group_added", "risk"), ("chen", "user_added", "wu"), ("system", "group_added", "experts")]
