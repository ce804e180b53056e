"""``citycommons log verify`` against a running portal and its downloads: it passes on an intact log and fails, naming
the entry, once a stored entry is altered directly in the database. Also ``log sign`` and ``log export``."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from citycommons.cli.main import app as cli_app
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.ledger import record
from citycommons.ledger import service as ledger
from citycommons.ledger.schemas import EventType, LedgerEvent
from citycommons.registers import demo as registers_demo
from tests import factories

TAMPERED = 5


def cli_env(live_server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The CLI on the server's machine: same data directory, database and signing key."""
    return {
        "CITYCOMMONS_DATA_DIR": str(live_server.settings.data_dir),
        "CITYCOMMONS_DATABASE_URL": "",
        "CITYCOMMONS_ENVIRONMENT": "test",
    }


def run(*args: str, env: dict[str, str] | None = None, code: int = 0):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli_app, list(args), env=env or {"CITYCOMMONS_ENVIRONMENT": "test"})
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def build_log(live_server) -> int:  # type: ignore[no-untyped-def]
    """A demo-like log: memberships, datasets born restricted, member reads over HTTP, register decisions, a
    moderation decision; then ``citycommons log sign``. Returns the signed tree size."""
    engine = make_engine(live_server.settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as s:
            world = factories.make_world(s)
            ds = factories.make_dataset(s, "census", access_rights="RESTRICTED")
            factories.make_dataset(s, "health", access_rights="NON_PUBLIC")
            s.flush()
            factories.make_org(s, "urbanisme")
            registers_demo.seed(session=s)
            ledger.append(
                session=s,
                event=LedgerEvent(
                    type=EventType.MODERATION_DECIDED,
                    subjects=record.subjects_of(
                        factories.accounts.actor_for_token(session=s, token=world.admin_token),
                        key=live_server.settings.pseudonym_key,
                    ),
                    objects=["initiative:demo-1"],
                    details={"decision": "approved"},
                ),
            )
    finally:
        engine.dispose()
    with httpx.Client(base_url=live_server.url, headers=world.auth("editor")) as http:
        for name in ("census", "health"):
            assert http.get(f"/api/v1/datasets/{name}").status_code == 200
            assert http.get(f"/dataset/{name}").status_code == 200
        assert http.get("/api/3/action/package_show", params={"id": ds.id}).status_code == 200
        assert http.patch("/api/v1/datasets/census", json={"access_rights": "NON_PUBLIC"}).status_code == 200
    size = int(httpx.get(f"{live_server.url}/api/v1/log/entries", params={"limit": 1}).json()["tree_size"])
    signed = run("log", "sign", env=cli_env(live_server))
    assert f"size {size}" in signed.stdout
    return size


def tamper(live_server, index: int) -> None:  # type: ignore[no-untyped-def]
    """An attacker with write access to the database: lift the append-only triggers and rewrite an entry."""
    engine = make_engine(live_server.settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as s:
            s.execute(text("DROP TRIGGER IF EXISTS ledger_entry_no_update"))
            data = bytes(s.execute(text("SELECT data FROM ledger_entry WHERE idx = :i"), {"i": index}).scalar_one())
            entry = json.loads(data)
            entry["objects"] = ["organization:someone-else"]
            forged = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            assert forged != data
            s.execute(text("UPDATE ledger_entry SET data = :d WHERE idx = :i"), {"d": forged, "i": index})
    finally:
        engine.dispose()


def test_verify_url_passes_then_fails_after_tampering(live_server, tmp_path: Path):
    size = build_log(live_server)
    assert size >= 10
    types = {e["type"] for e in httpx.get(f"{live_server.url}/api/v1/log/entries").json()["entries"]}
    assert {"role.granted", "dataset.read", "dataset.access_rights_changed", "register.published"} <= types

    ok = run("log", "verify", live_server.url)
    assert f"Verified tree size: {size}" in ok.stdout

    run("log", "export", str(tmp_path / "before"), env=cli_env(live_server))
    assert f"Verified tree size: {size}" in run("log", "verify", str(tmp_path / "before")).stdout

    tamper(live_server, TAMPERED)
    failed = run("log", "verify", live_server.url, code=1)
    assert f"entry {TAMPERED}: recorded leaf hash" in failed.stderr
    assert "FAILED" in failed.stderr and "Verified tree size: 0" in failed.stderr

    # the export taken before still verifies; one downloaded now does not, and names the same entry
    assert run("log", "verify", str(tmp_path / "before")).exit_code == 0
    archive = tmp_path / "after.tar.gz"
    archive.write_bytes(httpx.get(f"{live_server.url}/api/v1/log/export.tar.gz").content)
    failed = run("log", "verify", str(archive), code=1)
    assert f"entry {TAMPERED}: leaf hash" in failed.stderr or f"entry {TAMPERED}:" in failed.stderr
    assert "differ from what was signed" in failed.stderr

    audit = run("log", "audit", env=cli_env(live_server), code=1)
    assert f"entry {TAMPERED}" in audit.stderr


def test_verify_pins_the_key_and_rejects_a_forged_export(live_server, tmp_path: Path):
    size = build_log(live_server)
    key = tmp_path / "log.pem"
    key.write_text(httpx.get(f"{live_server.url}/api/v1/log/public-key").json()["pem"])
    assert f"Verified tree size: {size}" in run("log", "verify", live_server.url, "--key", str(key)).stdout

    # an export whose entry and leaf hash were both rewritten: the signed root no longer matches
    run("log", "export", str(tmp_path / "copy"), env=cli_env(live_server))
    lines = (tmp_path / "copy" / "entries.ndjson").read_text().splitlines()
    first = json.loads(lines[0])
    first["entry"] = first["entry"].replace('"v":1', '"v":1 ')
    lines[0] = json.dumps(first)
    (tmp_path / "copy" / "entries.ndjson").write_text("\n".join(lines) + "\n")
    failed = run("log", "verify", str(tmp_path / "copy"), code=1)
    assert "entry 0" in failed.stderr

    other = tmp_path / "other.pem"
    from citycommons.ledger.keys import generate_signer, public_key_pem

    other.write_text(public_key_pem(generate_signer().public_key))
    refused = run("log", "verify", live_server.url, "--key", str(other), code=1)
    assert "not the pinned key" in refused.stderr


@pytest.mark.parametrize(
    ("location", "message"),
    [("/no/such/dir", "no such directory or file"), ("http://127.0.0.1:9", "Could not read")],
)
def test_verify_unreadable_sources(location: str, message: str):
    failed = run("log", "verify", location, code=1)
    assert message in failed.stderr


def test_verify_refuses_unsafe_archives(tmp_path: Path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "x"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tf:
        tf.add(payload, "../escape.txt")
    failed = run("log", "verify", str(evil), code=1)
    assert "unsafe" in failed.stderr and not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("path", [["log"], ["log", "verify"], ["log", "sign"], ["log", "export"], ["log", "audit"]])
def test_log_commands_have_help(path: list[str]):
    assert "Usage" in run(*path, "--help").stdout
