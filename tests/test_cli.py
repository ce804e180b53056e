"""The ``citycommons`` command line, through Typer's CliRunner (and one real ``serve`` subprocess)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from citycommons.accounts import service as accounts
from citycommons.catalog.models import Dataset, Distribution
from citycommons.cli.main import app
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.settings import Settings
from tests import factories

COMMANDS = [
    [],
    ["serve"],
    ["init"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["user"],
    ["user", "create"],
    ["user", "list"],
    ["token"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
    ["org"],
    ["org", "list"],
    ["org", "member"],
    ["org", "member", "add"],
    ["org", "member", "list"],
    ["org", "member", "remove"],
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CITYCOMMONS_DATA_DIR": str(tmp_path / "var"),
        "CITYCOMMONS_DATABASE_URL": "",
        "CITYCOMMONS_ENVIRONMENT": "test",
        "CITYCOMMONS_RATE_LIMIT_ENABLED": "false",
    }


@pytest.fixture
def run(env: dict[str, str]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), env=env)
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    return invoke


def _settings(env: dict[str, str]) -> Settings:
    return Settings(environment="test", data_dir=Path(env["CITYCOMMONS_DATA_DIR"]), database_url=None)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(run, path: list[str]) -> None:
    result = run(*path, "--help")
    assert "Usage" in result.stdout
    assert "--help" in result.stdout


def test_init_creates_the_data_dir_and_migrates(run, env: dict[str, str]) -> None:
    first = run("init")
    assert "created" in first.stdout and "migrated" in first.stdout
    assert (Path(env["CITYCOMMONS_DATA_DIR"]) / "citycommons.db").exists()
    second = run("init")
    assert "already at revision" in second.stdout
    current = run("db", "current")
    assert "(head)" in current.stdout
    assert "already at revision" in run("db", "upgrade").stdout


def test_db_current_on_an_empty_database_says_so(run) -> None:
    assert "no schema yet" in run("db", "current").stdout


def test_users_tokens_and_members(run, env: dict[str, str]) -> None:
    run("init")
    created = run("user", "create", "ada", "--email", "ada@example.org", "--password", "long enough pw", "--sysadmin")
    assert "ada" in created.stdout and "sysadmin" in created.stdout
    run("user", "create", "bob", "--email", "bob@example.org", "--password", "long enough pw")
    listing = run("user", "list")
    lines = listing.stdout.splitlines()  # piped: tab-separated, header first
    assert lines[0].split("\t")[:3] == ["name", "full name", "e-mail"] and len(lines) == 3
    assert lines[1].startswith("ada\t") and "bob@example.org" in lines[2]

    token = run("token", "create", "ada", "--name", "scripts").stdout
    assert token.endswith("\n") and token.count("\n") == 1
    token = token.strip()
    assert token.startswith("cc_") and " " not in token
    settings = _settings(env)
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            actor = accounts.actor_for_token(session=session, token=token)
            assert actor.name == "ada" and actor.sysadmin
            tokens = accounts.list_tokens(session=session, actor=actor, user="ada")
            factories.make_org(session, "mobility", "Mobility")
    finally:
        engine.dispose()
    token_id = tokens[0].id
    assert token_id in run("token", "list", "ada").stdout
    assert "Revoked" in run("token", "revoke", token_id).stdout

    assert "editor of mobility" in run("org", "member", "add", "mobility", "bob", "--role", "editor").stdout
    members = run("org", "member", "list", "mobility").stdout
    assert "bob" in members and "editor" in members
    assert "mobility" in run("org", "list").stdout
    run("org", "member", "remove", "mobility", "bob")
    assert "bob" not in run("org", "member", "list", "mobility").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "revoke", "no-such-token"], "Token not found"),
        (["token", "create", "nobody"], "User not found"),
        (["user", "create", "x", "--email", "not-an-email", "--password", "short"], "must be an e-mail address"),
        (["org", "member", "add", "no-such-org", "nobody"], "Organization not found"),
    ],
)
def test_errors_are_one_clear_message_on_stderr(run, args: list[str], message: str) -> None:
    run("init")
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_unmigrated_database_error_points_at_init(run) -> None:
    result = run("user", "list", ok=False)
    assert result.exit_code == 1 and "citycommons init" in result.stderr


def test_bad_role_is_a_usage_error(run) -> None:
    result = run("org", "member", "add", "a", "b", "--role", "owner", ok=False)
    assert result.exit_code == 2


def test_duplicate_user_is_a_conflict(run) -> None:
    run("init")
    run("user", "create", "ada", "--email", "ada@example.org", "--password", "long enough pw")
    result = run("user", "create", "ada", "--email", "other@example.org", "--password", "long enough pw", ok=False)
    assert result.exit_code == 1 and "taken" in result.stderr


def _demo_counts(env: dict[str, str]) -> tuple[int, int, int]:
    engine = make_engine(_settings(env))
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            datasets = session.scalar(select(func.count()).select_from(Dataset)) or 0
            dists = session.scalar(select(func.count()).select_from(Distribution)) or 0
    finally:
        engine.dispose()
    files = sum(1 for p in (Path(env["CITYCOMMONS_DATA_DIR"]) / "uploads").rglob("*") if p.is_file())
    return datasets, dists, files


def test_demo_is_idempotent(run, env: dict[str, str]) -> None:
    first = run("demo")
    assert "shown only this once" in first.stdout
    counts = _demo_counts(env)
    assert counts[0] >= 45 and counts[2] > counts[0]
    second = run("demo", "--admin-password", "another password")
    assert "nothing changed" in second.stdout
    assert "shown only this once" not in second.stdout
    assert _demo_counts(env) == counts


def test_serve_migrates_then_runs_uvicorn(run, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    run("serve", "--port", "8123")
    assert "(head)" in run("db", "current").stdout
    target, kwargs = calls[0]
    assert kwargs["port"] == 8123 and kwargs["host"] == "127.0.0.1"
    assert target.state.settings  # type: ignore[attr-defined].data_dir == Path(env["CITYCOMMONS_DATA_DIR"])
    run("serve", "--reload")
    target, kwargs = calls[1]
    assert target == "citycommons.cli.serve:app_from_env" and kwargs["factory"] is True and kwargs["reload"] is True


def test_serve_answers_http(env: dict[str, str]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cli = str(Path(sys.executable).with_name("citycommons"))
    command = [cli] if os.path.exists(cli) else [sys.executable, "-m", "citycommons.cli.main"]
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/datasets", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.time() < deadline, "server did not start"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["count"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
