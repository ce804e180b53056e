"""The register's service: workflow, four-eyes, versioning, validation, visibility, the transparency log."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from citycommons.actor import ANONYMOUS, SYSTEM
from citycommons.errors import Conflict, Forbidden, Invalid, NotFound
from citycommons.ledger import service as ledger
from citycommons.registers import service
from citycommons.registers.schemas import AlgorithmCreate, AlgorithmQuery, TransitionRequest
from tests import factories as catalog_factories
from tests.registers import factories


def step(session, actor, slug, action, reason="", **kw):
    return service.transition(
        session=session, actor=actor, slug=slug, data=TransitionRequest(action=action, reason=reason), **kw
    )


@pytest.fixture
def people(uow, world):
    with uow() as s:
        factories.make_reviewer(s)
        factories.make_reviewer(s, name="reviewer2")
    with uow() as s:
        return {name: factories.actor(s, name) for name in ("editor", "reviewer", "reviewer2", "outsider")}


def test_workflow_four_eyes_versions_and_log(db, people):
    editor, reviewer = people["editor"], people["reviewer"]
    read = service.create(session=db, actor=editor, data=AlgorithmCreate.model_validate(factories.complete()))
    assert (read.slug, read.record_state, read.version) == ("bicing-demand-forecast", "draft", 1)
    assert service.search(session=db, actor=ANONYMOUS, query=AlgorithmQuery()).count == 0
    with pytest.raises(NotFound):
        service.get(session=db, actor=ANONYMOUS, slug=read.slug)

    step(db, editor, read.slug, "submit")
    with pytest.raises(Forbidden):  # editors cannot publish
        step(db, editor, read.slug, "publish")
    with pytest.raises(Invalid) as err:
        step(db, reviewer, read.slug, "reject")
    assert "reason" in err.value.fields
    back = step(db, reviewer, read.slug, "reject", reason="Say who reviews the forecasts")
    assert back.record_state == "draft"
    step(db, editor, read.slug, "submit")
    live = step(db, reviewer, read.slug, "publish")
    assert live.record_state == "published" and live.first_published_at is not None

    # an edit of a published record opens version 2; version 1 stays live
    v2 = service.patch(session=db, actor=editor, slug=read.slug, data={"description_short": "Version two"})
    assert (v2.version, v2.record_state) == (2, "draft")
    detail = service.get(session=db, actor=ANONYMOUS, slug=read.slug)
    assert detail.current and detail.current.version == 1 and detail.working is None
    assert service.get(session=db, actor=editor, slug=read.slug).working.version == 2

    step(db, editor, read.slug, "submit")
    with pytest.raises(Conflict):  # in review: not editable
        service.patch(session=db, actor=editor, slug=read.slug, data={"name": "x"})
    # four-eyes: the reviewer who edits cannot publish their own version
    step(db, reviewer, read.slug, "reject", reason="typo")
    service.patch(session=db, actor=reviewer, slug=read.slug, data={"description_short": "Version two, fixed"})
    step(db, reviewer, read.slug, "submit")
    with pytest.raises(Forbidden, match="Four-eyes"):
        step(db, reviewer, read.slug, "publish")
    step(db, reviewer2 := people["reviewer2"], read.slug, "publish")
    detail = service.get(session=db, actor=ANONYMOUS, slug=read.slug)
    assert detail.current.version == 2 and detail.current.description_short == "Version two, fixed"
    assert [(v.version, v.record_state) for v in detail.versions] == [(2, "published"), (1, "superseded")]
    history = service.search(session=db, actor=ANONYMOUS, query=AlgorithmQuery(history=True))
    assert history.count == 2

    with pytest.raises(Invalid):
        step(db, reviewer2, read.slug, "withdraw")
    step(db, reviewer2, read.slug, "withdraw", reason="Replaced by the new dispatch system")
    gone = service.get(session=db, actor=ANONYMOUS, slug=read.slug)
    assert gone.current is None and gone.tombstone.reason == "Replaced by the new dispatch system"
    assert gone.tombstone.id == read.id and gone.tombstone.slug == read.slug
    assert service.search(session=db, actor=ANONYMOUS, query=AlgorithmQuery()).count == 0

    actions = [a.action for a in service.get(session=db, actor=editor, slug=read.slug).actions]
    assert actions.count("publish") == 2 and "withdraw" in actions and "supersede" in actions
    entries = ledger.list_entries(session=db, type="register.published").entries
    assert [e.details["action"] for e in entries] == [
        "submit",
        "reject",
        "submit",
        "publish",
        "submit",
        "reject",
        "submit",
        "publish",
        "withdraw",
    ]
    assert entries[3].objects[0] == f"algorithm:{read.id}" and len(entries[3].subjects[0]) == 64


def test_self_publish_when_allowed(db, people):
    reviewer = people["reviewer"]
    read = service.create(session=db, actor=reviewer, data=AlgorithmCreate.model_validate(factories.complete()))
    step(db, reviewer, read.slug, "submit")
    assert step(db, reviewer, read.slug, "publish", allow_self_publish=True).record_state == "published"


def test_outsiders_cannot_draft_edit_or_publish(db, people):
    outsider = people["outsider"]
    with pytest.raises(Forbidden):
        service.create(session=db, actor=outsider, data=AlgorithmCreate.model_validate(factories.complete()))
    draft = service.create(
        session=db, actor=people["editor"], data=AlgorithmCreate.model_validate(factories.complete())
    )
    with pytest.raises(NotFound):  # a draft does not exist for them
        service.patch(session=db, actor=outsider, slug=draft.slug, data={"name": "mine"})
    with pytest.raises(NotFound):
        step(db, outsider, draft.slug, "submit")
    live = factories.publish(db, factories.complete("Noise map model"))
    with pytest.raises(Forbidden):
        service.patch(session=db, actor=outsider, slug=live.slug, data={"name": "mine"})
    with pytest.raises(Forbidden):
        step(db, outsider, live.slug, "withdraw", reason="no")


def test_completeness_names_fields_and_high_risk_rules(db, people):
    editor = people["editor"]
    draft = service.create(session=db, actor=editor, data=AlgorithmCreate(name="Half done", organization="environment"))
    with pytest.raises(Invalid) as err:
        step(db, editor, draft.slug, "submit")
    assert {"description_short", "contact", "ai_act_class", "human_oversight"} <= set(err.value.fields)

    hr = factories.high_risk()
    for field in ("trade_name", "eu_database_url", "annex_iii_area", "senior_responsible_owner"):
        hr.pop(field)
    hr["impact_assessments"] = hr["impact_assessments"][:1]
    hr["status"], hr["end_date"] = "in_use", "2024-01"
    draft = service.create(session=db, actor=editor, data=AlgorithmCreate.model_validate(hr))
    with pytest.raises(Invalid) as err:
        step(db, editor, draft.slug, "submit")
    assert {"trade_name", "eu_database_url", "annex_iii_area", "senior_responsible_owner"} <= set(err.value.fields)
    assert "DPIA" in err.value.fields["impact_assessments"][0] and "end_date" in err.value.fields
    ok = service.create(session=db, actor=editor, data=AlgorithmCreate.model_validate(factories.high_risk("HR 2")))
    assert step(db, editor, ok.slug, "submit").record_state == "in_review"


def test_http_urls_and_unknown_values_are_refused():
    with pytest.raises(ValidationError) as err:
        AlgorithmCreate.model_validate(
            factories.complete(public_page_url="http://example.org", contact="not an address", themes=["weather"])
        )
    fields = {e["loc"][0] for e in err.value.errors()}
    assert {"public_page_url", "contact", "themes"} <= fields
    with pytest.raises(ValidationError):
        AlgorithmCreate.model_validate(factories.complete(datasets=[{"title": "x", "url": "http://x.org"}]))


def test_dataset_links_hide_private_datasets(db, people, uow):
    with uow() as s:
        public = catalog_factories.make_dataset(s, "stations")
        secret = catalog_factories.make_dataset(s, "secret-census", private=True)
    payload = factories.complete(
        datasets=[
            {"dataset": "stations", "role": "operating"},
            {"dataset": secret.id, "role": "training"},
            {"title": "Weather", "url": "https://meteo.example.org", "role": "operating"},
        ]
    )
    live = factories.publish(db, payload)
    seen = service.get(session=db, actor=ANONYMOUS, slug=live.slug).current
    assert [d.dataset_name or d.title for d in seen.datasets] == ["stations", "Weather"]
    member = service.get(session=db, actor=SYSTEM, slug=live.slug).current
    assert len(member.datasets) == 3
    assert [a.slug for a in service.using_dataset(session=db, actor=ANONYMOUS, dataset_id=public.id)] == [live.slug]
    with pytest.raises(Invalid) as err:  # nor what does not exist (or they cannot see)
        service.create(
            session=db,
            actor=people["editor"],
            data=AlgorithmCreate.model_validate(factories.complete(datasets=[{"dataset": "nope"}])),
        )
    assert "datasets.0.dataset" in err.value.fields


def test_search_filters(db, people):
    factories.publish(
        db, factories.complete("Parking occupancy", principles=[2], status="in_development", begin_date="")
    )
    factories.publish(db, factories.high_risk("Benefit triage", organization="mobility"))
    assert {r.name for r in service.search(session=db, actor=ANONYMOUS, query=AlgorithmQuery(q="PARKING")).results} == {
        "Parking occupancy"
    }
    by = lambda **kw: [r.name for r in service.search(session=db, actor=ANONYMOUS, query=AlgorithmQuery(**kw)).results]  # noqa: E731
    assert by(ai_act_class=["high_risk"]) == ["Benefit triage"]
    assert by(organization=["mobility"]) == ["Benefit triage"]
    assert by(principle=[2]) == ["Parking occupancy"]
    assert by(status=["in_development"]) == ["Parking occupancy"]
    assert by(limit=1, offset=1) == ["Parking occupancy"]
