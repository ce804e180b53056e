"""Tree heads published at intervals: the signing key from the settings, the idempotent job, the app's publisher."""

from __future__ import annotations

import stat
import time

from fastapi.testclient import TestClient

from citycommons.app import create_app
from citycommons.ledger import jobs, service
from tests.ledger.factories import event


def heads(uow) -> list[int]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return [h.tree_size for h in service.list_tree_heads(session=s).tree_heads]


def test_key_is_created_once_private_and_reused(settings, tmp_path):
    settings.ledger_signing_key_file = tmp_path / "keys" / "log.pem"
    signer = jobs.signer_for(settings)
    path = settings.ledger_key_path
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert jobs.signer_for(settings).key_id == signer.key_id
    jobs._signer_at.cache_clear()
    assert jobs.signer_for(settings).key_id == signer.key_id  # read back from the file


def test_sign_job_signs_only_when_the_log_grew(settings, sessionmaker, uow):
    signer = jobs.signer_for(settings)
    assert jobs.sign_job(sessionmaker, signer) is not None  # no head yet: the empty log gets one
    assert jobs.sign_job(sessionmaker, signer) is None
    with uow() as s:
        service.append_many(session=s, events=[event(n) for n in range(5)])
    head = jobs.sign_job(sessionmaker, signer)
    assert head is not None and head.tree_size == 5
    assert jobs.sign_job(sessionmaker, signer) is None
    assert heads(uow) == [0, 5]


def test_app_signs_at_start_and_at_intervals(settings, uow):
    settings.ledger_tree_head_interval_seconds = 0.2
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/v1/log/sth").json()["tree_size"] == 0  # signed before serving
        with uow() as s:
            service.append_many(session=s, events=[event(n) for n in range(3)])
        deadline = time.time() + 10
        while client.get("/api/v1/log/sth").json()["tree_size"] != 3 and time.time() < deadline:
            time.sleep(0.05)
        assert client.get("/api/v1/log/sth").json()["tree_size"] == 3
    app.state.engine.dispose()
    assert heads(uow) == [0, 3]  # nothing new: no more heads


def test_interval_zero_turns_the_publisher_off(settings, uow):
    settings.ledger_tree_head_interval_seconds = 0
    app = create_app(settings)
    with TestClient(app) as client:
        r = client.get("/api/v1/log/sth")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        html = client.get("/transparency", params={"lang": "en"}).text
        assert "No tree head has been signed yet." in html
    app.state.engine.dispose()
    assert heads(uow) == []
