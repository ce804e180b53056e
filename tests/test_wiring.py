"""Request wiring: one transaction per request committed before the response, error shape, limits, settings docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient

from citycommons.app import create_app
from citycommons.errors import Invalid
from citycommons.settings import Settings
from citycommons.web.deps import SessionDep
from tests.conftest import _settings


def test_failed_commit_is_not_reported_as_success(settings):
    app = create_app(settings)
    router = APIRouter()

    @router.post("/api/v1/_test_commit")
    def broken(session: SessionDep) -> dict[str, int]:
        from sqlalchemy import event

        event.listen(session, "before_commit", lambda s: (_ for _ in ()).throw(RuntimeError("disk full")), once=True)
        return {"ok": 1}

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/api/v1/_test_commit").status_code == 500


def test_error_body_shape_is_canonical(client):
    r = client.get("/api/v1/datasets/does-not-exist")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Dataset not found"}}
    assert Invalid(fields={"name": ["bad"]}).body() == {
        "error": {"code": "invalid", "message": "Invalid input", "fields": {"name": ["bad"]}}
    }


def test_oversized_body_is_413(tmp_path):
    s = _settings(tmp_path, max_body_bytes=1000)
    from citycommons.db.migrate import upgrade

    upgrade(s)
    with TestClient(create_app(s)) as c:
        r = c.post("/api/v1/datasets", content=b"x" * 5000, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large"


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    s = _settings(tmp_path, rate_limit_anonymous_per_minute=3)
    s.rate_limit_enabled = True
    from citycommons.db.migrate import upgrade

    upgrade(s)
    with TestClient(create_app(s)) as c:
        codes = [c.get("/api/v1/organizations").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = c.get("/api/v1/organizations")
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        ckan = c.get("/api/3/action/package_list")
        assert ckan.status_code == 429 and ckan.json()["success"] is False
        assert int(ckan.headers["retry-after"]) >= 1
        # a token holder has its own budget
        assert c.get("/api/v1/organizations", headers={"Authorization": "cc_x"}).status_code in (401, 200)


def test_every_setting_is_documented():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"CITYCOMMONS_{name.upper()}" in readme, f"CITYCOMMONS_{name.upper()} missing from README"


def test_production_refuses_default_secret():
    import pytest

    with pytest.raises(ValueError):
        Settings(environment="production")


def test_tokens_are_hashed_at_rest(uow, world):
    from sqlalchemy import select

    from citycommons.accounts.models import ApiToken, User

    with uow() as s:
        digests = list(s.scalars(select(ApiToken.digest)))
        assert world.editor_token not in digests
        assert all(len(d) == 64 for d in digests)
        hashes = list(s.scalars(select(User.password_hash)))
        assert all(h.startswith("$argon2id$") for h in hashes)


def test_rate_limit_holds_across_a_minute_boundary():
    from citycommons.web.limits import RateLimiter

    limiter = RateLimiter(lambda *a: None, _settings(Path("/nonexistent")))  # type: ignore[arg-type]
    assert limiter.hit("a:x", 2, 119.8) == 0 and limiter.hit("a:x", 2, 119.9) == 0
    assert limiter.hit("a:x", 2, 120.1) > 0  # a fixed window would have started afresh at 120 s
    assert limiter.hit("a:x", 2, 150.0) == 0  # one more after a half minute (2 per minute)
    assert limiter.hit("a:y", 2, 120.1) == 0  # keys are separate
