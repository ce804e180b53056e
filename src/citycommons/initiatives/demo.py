"""Demo initiatives: a dozen plausible Barcelona digital-rights initiatives across the five principles and several
districts; most approved, three pending, one rejected. The approvals and the rejection go through the moderation
service like a moderator's, so the transparency log holds their ``moderation.decided`` entries. Idempotent: an
initiative whose name exists is left alone (and no decision is taken again)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycommons.actor import SYSTEM, Actor
from citycommons.initiatives import service
from citycommons.initiatives.models import Initiative
from citycommons.initiatives.schemas import Decision, InitiativeCreate, Status

# name, org type, principles, website, address, (lat, lon) or None, status, description
SEED: tuple[tuple[str, str, list[int], str, str, tuple[float, float] | None, Status, str], ...] = (
    (
        "Punt Òmnia del Raval",
        "public_body",
        [1],
        "",
        "el Raval",
        (41.3792, 2.1688),
        "approved",
        "Free computers, connectivity and digital-skills workshops for neighbours of all ages.",
    ),
    (
        "Gràcia Wi-Fi Comunitària",
        "association",
        [1, 4],
        "https://guifi.net",
        "la Vila de Gràcia",
        None,
        "approved",
        "A community network node that shares affordable internet access with neighbouring buildings.",
    ),
    (
        "Cooperativa de Dades del Poblenou",
        "cooperative",
        [2, 5],
        "https://example.org/dades-poblenou",
        "el Poblenou",
        None,
        "approved",
        "A data cooperative where members pool and govern their own mobility and energy data.",
    ),
    (
        "Observatori d'Algorismes Públics",
        "university",
        [3],
        "https://example.org/observatori",
        "Les Corts",
        (41.3857, 2.1129),
        "approved",
        "Researchers who audit the algorithms used by public services and publish reports.",
    ),
    (
        "Taller de Privacitat per a Joves",
        "association",
        [2],
        "",
        "Sants",
        None,
        "approved",
        "Monthly workshops for teenagers on passwords, tracking and protecting their data on social networks.",
    ),
    (
        "Pressupostos Participatius Oberts",
        "informal_group",
        [4],
        "",
        "Nou Barris",
        None,
        "approved",
        "Neighbours who help others take part online and offline in the district's participatory budget.",
    ),
    (
        "Programari Lliure a l'Escola",
        "cooperative",
        [5],
        "https://example.org/escola-lliure",
        "Sant Andreu",
        None,
        "approved",
        "Helps schools move to free software and open standards, with training for teachers.",
    ),
    (
        "Accessibilitat Web Sant Martí",
        "company",
        [4, 5],
        "https://example.org/a11y",
        "Sant Martí de Provençals",
        None,
        "approved",
        "Accessibility audits of local websites and apps, with a free tier for associations.",
    ),
    (
        "Alfabetització Digital Gent Gran",
        "public_body",
        [1, 4],
        "",
        "Horta",
        (41.4305, 2.1600),
        "approved",
        "Digital literacy courses for older people in civic centres: video calls, online procedures and safety.",
    ),
    (
        "Xarxa de Transparència de Sarrià",
        "informal_group",
        [3],
        "",
        "Sarrià",
        None,
        "pending",
        "Volunteers who read municipal contracts and explain them in plain language.",
    ),
    (
        "Drets Digitals a la Feina",
        "association",
        [2, 3],
        "https://example.org/feina",
        "Eixample",
        None,
        "pending",
        "Advice for workers on workplace surveillance and algorithmic management.",
    ),
    (
        "Hackaton Ciutat Oberta",
        "other",
        [5],
        "https://example.org/hack",
        "la Barceloneta",
        None,
        "pending",
        "A weekend of building open tools with the city's open data.",
    ),
    (
        "Publicitat Segmentada Gratis",
        "company",
        [1],
        "https://example.org/ads",
        "Ciutat Vella",
        None,
        "rejected",
        "Free Wi-Fi in exchange for tracking visitors' devices for advertising.",
    ),
)
SEEDED_AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
REJECTION_REASON = "Tracking visitors for advertising works against the privacy principle."


def seed(*, session: Session, moderator: Actor = SYSTEM, key: str | bytes | None = None) -> None:
    """Adds the demo initiatives that are not there yet (by name); ``moderator`` approves or rejects those the seed
    says were decided, through ``service.decide`` (logged, with ``key`` for the moderator's pseudonym)."""
    existing = set(session.scalars(select(Initiative.name)))
    for name, org_type, principles, website, address, point, status, description in SEED:
        if name in existing:
            continue
        data = InitiativeCreate.model_validate(
            {
                "name": name,
                "description": description,
                "org_type": org_type,
                "principles": principles,
                "website": website,
                "address": address,
                "lat": point[0] if point else None,
                "lon": point[1] if point else None,
                "contact_email": "demo@citycommons.example",
            }
        )
        created = service.submit(session=session, data=data, client="demo", limit=None, now=SEEDED_AT)
        if status == "pending":
            continue
        decision = Decision(
            decision="approve" if status == "approved" else "reject",
            reason=REJECTION_REASON if status == "rejected" else "",
        )
        service.decide(session=session, actor=moderator, initiative_id=created.id, data=decision, key=key)
    session.flush()
