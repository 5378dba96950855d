"""Passwords for the web inbox: a person changes their own (giving the current one), the reform
office resets anyone else's; a weak one is refused; the trail says who did which, never the
password nor its hash. On SQLite and PostgreSQL, and from the command line, which prompts
without echo or reads standard input, so the password stays out of `ps` and the shell history."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.audit import verify
from engine.cli import main
from engine.commands import Engine
from engine.errors import Forbidden, Invalid, NotFound
from engine.passwords import matches
from models import AuditEvent, User

from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database

OLD, NEW = "old-password-1", "new-password-2"


@pytest.fixture
def office(engine):
    """chen of the reform office and li, the legal reviewer, each with a password."""
    engine.add_group("reform_office", "改革办")
    engine.add_group("legal", "法制机构")
    engine.add_user("chen", "陈静", groups=["reform_office"], password="office-pass-1")
    engine.add_user("li", "李娜", groups=["legal"], unit="市司法局", password=OLD)
    return engine


def _user(engine, username: str) -> User:
    with engine.db.reader() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        s.expunge(user)
        return user


def _trail(engine) -> list[tuple[str, str, str]]:
    """(event type, actor, payload as written) of every password event."""
    with engine.db.reader() as s:
        return [tuple(r) for r in s.execute(select(AuditEvent.event_type, AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.event_type.in_(("password_set", "password_reset"))).order_by(AuditEvent.seq))]


def test_a_person_changes_their_own_password_giving_the_current_one(office):
    before = _user(office, "li")
    with pytest.raises(Forbidden, match=r"当前密码不正确.*\(the current password is wrong"):
        office.set_password("li", NEW, actor="li", current_password="not-it-at-all")
    with pytest.raises(Forbidden, match="当前密码不正确"):
        office.set_password("li", NEW, actor="li")  # none given: the same
    with pytest.raises(Invalid, match=r"新密码与当前密码相同 \(the new password is the current one\)"):
        office.set_password("li", OLD, actor="li", current_password=OLD)
    assert _user(office, "li").password_hash == before.password_hash and _trail(office) == []

    done = office.set_password("li", NEW, actor="li", current_password=OLD)
    assert (done["username"], done["reset"]) == ("li", False)
    after = _user(office, "li")
    assert matches(after.password_hash, NEW) and not matches(after.password_hash, OLD)
    # kept with a slow salted hash (the browser tests' demo uses a quick one, tests/web_helper.py)
    assert after.password_hash.startswith("scrypt:") and NEW not in after.password_hash
    # every web session of li's, in any browser, ends at its next request (web/auth.py)
    assert after.session_generation == before.session_generation + 1 == done["session_generation"]
    assert _trail(office) == [("password_set", "li", '{"username":"li"}')]


def test_the_office_resets_anyones_password_and_nobody_else_may(office):
    with pytest.raises(Forbidden, match=r"只有改革办可以重设他人的密码 \(only the reform office"):
        office.set_password("chen", NEW, actor="li")
    with pytest.raises(NotFound, match=r"用户 nobody 不存在 \(no such user: nobody\)"):
        office.set_password("nobody", NEW, actor="chen")
    before = _user(office, "li")
    done = office.set_password("li", NEW, actor="chen")  # forgotten: no current password needed
    assert (done["reset"], done["session_generation"]) == (True, before.session_generation + 1)
    assert matches(_user(office, "li").password_hash, NEW)
    # the office's own is changed as anyone's: with the current one (an unattended browser is not enough)
    with pytest.raises(Forbidden, match="当前密码不正确"):
        office.set_password("chen", NEW, actor="chen")
    # someone deactivated cannot change theirs; the office may still reset it, for their return
    office.add_user("yang", "杨帆", groups=["reform_office"])
    office.deactivate_user("li", actor="chen")
    with pytest.raises(Forbidden, match="不存在或已停用"):
        office.set_password("li", "another-one-3", actor="li", current_password=NEW)
    office.set_password("li", "another-one-3", actor="yang")
    assert _trail(office) == [("password_reset", "chen", '{"username":"li"}'),
                              ("password_reset", "yang", '{"username":"li"}')]


@pytest.mark.parametrize("password, refusal", [
    ("short12", r"密码至少 8 个字符，现有 7 个 \(a password needs at least 8 characters"),
    ("li", r"密码至少 8 个字符"),
    ("x" * 129, r"密码最多 128 个字符，现有 129 个 \(a password may have at most 128"),
    ("pass\nword12", r"控制字符或不可见字符（U\+000A.*\(the password has a control"),
    ("pass\u200bword12", r"U\+200B"),
])
def test_a_password_too_short_too_long_or_with_a_hidden_character_is_refused(office, password, refusal):
    with pytest.raises(Invalid, match=refusal):
        office.set_password("li", password, actor="chen")
    assert matches(_user(office, "li").password_hash, OLD) and _trail(office) == []


def test_a_password_that_is_the_user_name_is_refused(office):
    office.add_user("zhangwei01", "张伟")
    for same in ("zhangwei01", "ZhangWei01", " zhangwei01 "):
        with pytest.raises(Invalid, match=r"密码不能与用户名相同 \(the password must not be the user name\)"):
            office.set_password("zhangwei01", same, actor="chen")


def test_the_trail_holds_who_set_whose_password_never_the_password_nor_its_hash(office):
    office.set_password("li", NEW, actor="li", current_password=OLD)
    office.set_password("li", "reset-by-office", actor="chen")
    kept = _user(office, "li").password_hash
    with office.db.reader() as s:
        written = " ".join(p for (p,) in s.execute(select(AuditEvent.payload)))
        assert verify(s).ok
    for secret in (OLD, NEW, "reset-by-office", kept, kept.split("$")[-1]):
        assert secret not in written


def test_only_the_reform_office_adds_a_user_when_a_person_does_it(office):
    """The web's people page adds users as the office member signed in; the command line as
    `system`, as it always has."""
    with pytest.raises(Forbidden, match=r"只有改革办可以添加用户 \(only the reform office adds users\)"):
        office.add_user("wang", "王芳", actor="li")
    office.add_user("wang", "王芳", groups=["legal"], actor="chen")
    with office.db.reader() as s:
        assert s.execute(select(AuditEvent.actor).where(AuditEvent.event_type == "user_added")
                         .order_by(AuditEvent.seq.desc())).scalars().first() == "chen"


# ---------------------------------------------------------------- the command line
def _run(db_url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--db", db_url, *args], input=input, catch_exceptions=False)


def _cli_user(sqlite_db, username: str) -> User:
    with sqlite_db.reader() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        s.expunge(user)
        return user


def test_the_office_resets_a_password_at_a_prompt_typed_twice_and_never_shown(cli, sqlite_db):  # noqa: F811
    # too short is asked for again at once; two that differ are asked for again; then it is set
    typed = "short\n" + "first-try-1\nfirst-try-2\n" + f"{NEW}\n{NEW}\n"
    done = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", input=typed)
    assert done.exit_code == 0, done.output
    assert "密码至少 8 个字符" in done.stderr and "两次输入不一致 (The two entered values do not match)" in done.stderr
    assert "新密码 (new password)" in done.stderr and "再次输入新密码" in done.stderr
    assert done.stdout.startswith("已重设 li 李娜 的密码，其网页登录已失效")
    for secret in ("short", "first-try", NEW):
        assert secret not in done.output  # stdout and stderr: nothing typed is echoed
    assert matches(_cli_user(sqlite_db, "li").password_hash, NEW)


def test_a_person_changes_their_own_at_the_prompt_giving_the_current_one(cli, sqlite_db):  # noqa: F811
    _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", input=f"{OLD}\n")
    wrong = _run(sqlite_db.url, "users", "password", "li", "--as", "li", input=f"not-it-at-all\n{NEW}\n{NEW}\n")
    assert wrong.exit_code == 4 and "当前密码不正确，密码未修改" in wrong.stderr
    done = _run(sqlite_db.url, "users", "password", "li", "--as", "li", input=f"{OLD}\n{NEW}\n{NEW}\n")
    assert done.exit_code == 0 and "当前密码 (current password)" in done.stderr
    assert done.stdout.startswith("已修改 li 李娜 的密码")
    assert OLD not in done.output and NEW not in done.output
    assert matches(_cli_user(sqlite_db, "li").password_hash, NEW)


def test_a_script_gives_the_password_on_standard_input(cli, sqlite_db):  # noqa: F811
    done = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", "--json", input=f"{NEW}\r\n")
    assert done.exit_code == 0
    assert as_json(done) == {"username": "li", "display_name": "李娜", "reset": True, "active": True,
                             "tokens_revoked": 0}
    assert matches(_cli_user(sqlite_db, "li").password_hash, NEW)  # the line's end is not part of it
    # one's own: the current password's line first
    own = _run(sqlite_db.url, "users", "password", "li", "--as", "li", "--stdin", input=f"{NEW}\nthird-one-33\n")
    assert own.exit_code == 0 and matches(_cli_user(sqlite_db, "li").password_hash, "third-one-33")
    for lines, kind in ((f"{NEW}\n", "current password, then the new one"), ("", "current password, then")):
        missing = _run(sqlite_db.url, "users", "password", "li", "--as", "li", "--stdin", input=lines)
        assert missing.exit_code == 2 and "标准输入须为当前密码、新密码各一行" in missing.stderr and kind in missing.stderr
    extra = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", input="one-password\nanother-one\n")
    assert extra.exit_code == 2 and "标准输入须为新密码一行" in extra.stderr
    weak = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", "--json", input="li\n")
    assert weak.exit_code == 3 and json.loads(weak.stdout)["error"] == "invalid"
    assert "密码至少 8 个字符" in weak.stderr
    refused = _run(sqlite_db.url, "users", "password", "chen", "--as", "zhang", "--stdin", input=f"{NEW}\n")
    assert refused.exit_code == 4 and "只有改革办可以重设他人的密码" in refused.stderr
    assert matches(_cli_user(sqlite_db, "li").password_hash, "third-one-33")


def test_a_reset_says_how_many_api_tokens_it_revoked_as_users_deactivate_does(cli, sqlite_db):  # noqa: F811
    """The plain output of an office reset said nothing of the tokens it revoked (the JSON's
    tokens_revoked, the web's flash did); one's own change revokes none and says nothing of them."""
    cli("tokens", "add", "OA 系统", "--as", "li")
    cli("tokens", "add", "看板", "--as", "li")
    reset = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", input=f"{OLD}\n")
    assert reset.exit_code == 0, reset.output
    assert reset.stdout.splitlines()[1:] == ["  其 2 个访问令牌已一并撤销，需要时请本人重新创建 "
                                             "(2 API token(s) revoked too: they make new ones if needed)"]
    assert "已撤销 revoked" in cli("tokens", "list", "--as", "chen", "--user", "li").stdout
    again = _run(sqlite_db.url, "users", "password", "li", "--as", "chen", "--stdin", input=f"{NEW}\n")
    assert again.exit_code == 0 and len(again.stdout.splitlines()) == 1 and "访问令牌" not in again.stdout
    cli("tokens", "add", "OA 系统", "--as", "li")
    changed = _run(sqlite_db.url, "users", "password", "li", "--as", "li", "--stdin", input=f"{NEW}\n{OLD}\n")
    assert changed.exit_code == 0 and "访问令牌" not in changed.stdout
    assert "有效 active" in cli("tokens", "list", "--as", "li").stdout


def test_users_add_password_follows_the_rules_of_users_password_and_its_help_points_there(cli, sqlite_db):  # noqa: F811
    """`users add --password x` took a 1-character password that `users password` refuses: the same
    rules now, and nothing added when it is refused."""
    short = cli("users", "add", "wang", "--display-name", "王芳", "--group", "legal", "--password", "x", ok=False)
    assert short.exit_code == 3 and "密码至少 8 个字符，现有 1 个" in short.stderr
    same = cli("users", "add", "wangfang01", "--display-name", "王芳", "--password", "WANGFANG01", ok=False)
    assert same.exit_code == 3 and "密码不能与用户名相同" in same.stderr
    assert "wang" not in cli("users", "list").stdout  # neither was added
    cli("users", "add", "wang", "--display-name", "王芳", "--group", "legal", "--password", "wang-pass-1")
    assert matches(_cli_user(sqlite_db, "wang").password_hash, "wang-pass-1")
    shown = cli("users", "add", "--help").stdout
    assert "reformflow users password" in shown and "system" in shown
    assert "不回显" in cli("users", "password", "--help").stdout


# ---------------------------------------------------------------- the first password
def test_the_first_office_user_sets_their_own_first_password_on_the_command_line(cli, sqlite_db):  # noqa: F811
    """docs/operations.md §1 adds chen without a password; `users password chen --as chen` asked
    for a current password chen never had, and refused whatever was typed."""
    assert _cli_user(sqlite_db, "chen").password_hash is None
    done = _run(sqlite_db.url, "users", "password", "chen", "--as", "chen", input=f"{NEW}\n{NEW}\n")
    assert done.exit_code == 0, done.output
    assert "当前密码" not in done.stderr and "chen 尚无密码，请设置首个密码" in done.stderr
    assert done.stdout.startswith("已设置 chen 陈静 的首个密码")
    assert NEW not in done.output and matches(_cli_user(sqlite_db, "chen").password_hash, NEW)
    # from then on the current one is asked for, as for anyone
    again = _run(sqlite_db.url, "users", "password", "chen", "--as", "chen", "--stdin", input="another-one-3\n")
    assert again.exit_code == 2 and "标准输入须为当前密码、新密码各一行" in again.stderr
    assert _trail(Engine(sqlite_db)) == [("password_set", "chen", '{"username":"chen"}')]


def test_a_script_sets_a_first_password_with_one_line_or_an_empty_current_line(cli, sqlite_db):  # noqa: F811
    one = _run(sqlite_db.url, "users", "password", "zhang", "--as", "zhang", "--stdin", "--json", input=f"{NEW}\n")
    assert one.exit_code == 0 and as_json(one)["reset"] is False
    # what the operator typed: an empty current password's line, then the new one
    empty = _run(sqlite_db.url, "users", "password", "li", "--as", "li", "--stdin", input=f"\n{NEW}\n")
    assert empty.exit_code == 0, empty.output
    assert matches(_cli_user(sqlite_db, "zhang").password_hash, NEW) and matches(_cli_user(sqlite_db, "li").password_hash, NEW)
    weak = _run(sqlite_db.url, "users", "password", "chen", "--as", "chen", "--stdin", input="short\n")
    assert weak.exit_code == 3 and "密码至少 8 个字符" in weak.stderr
    assert _cli_user(sqlite_db, "chen").password_hash is None


def test_only_the_command_line_sets_a_first_password_without_a_current_one(engine):
    """The web's own-password page and anything else that calls the engine without `first` (a web
    session, an API token) still need a current password, which a passwordless user has not."""
    engine.add_group("reform_office", "改革办")
    engine.add_user("chen", "陈静", groups=["reform_office"])
    for current in (None, ""):
        with pytest.raises(Forbidden, match="当前密码不正确"):
            engine.set_password("chen", NEW, actor="chen", current_password=current)
    assert _user(engine, "chen").password_hash is None and _trail(engine) == []
    engine.set_password("chen", NEW, actor="chen", first=True)
    with pytest.raises(Forbidden, match="当前密码不正确"):  # `first` is no way around a password one has
        engine.set_password("chen", "another-one-3", actor="chen", first=True)
    assert matches(_user(engine, "chen").password_hash, NEW)
    assert _trail(engine) == [("password_set", "chen", '{"username":"chen"}')]


def test_no_api_route_sets_a_password(engine):
    """A token holder acts as the token's owner: the JSON API has no password route at all, so a
    token never gives a passwordless account its first password."""
    from web import create_app
    app = create_app(engine=engine, secret_key="x", testing=True)
    api_routes = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert api_routes and not [r for r in api_routes if "password" in r]
