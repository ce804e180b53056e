"""The transparency pages show an entry's details in the reader's language, escaped: read channels, decisions,
register steps and access-rights changes; free text (a moderator's reason) and slugs stay inert."""

from __future__ import annotations

from citycommons.ledger import service
from citycommons.ledger.schemas import EventType, LedgerEvent


def _append(uow, *events: LedgerEvent) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        for event in events:
            service.append(session=s, event=event)


def test_entry_details_are_translated_and_escaped(client, uow):
    _append(
        uow,
        LedgerEvent(
            type=EventType.MODERATION_DECIDED,
            objects=["initiative:x"],
            details={"decision": "rejected", "reason": "<script>alert(1)</script>"},
        ),
        LedgerEvent(
            type=EventType.REGISTER_PUBLISHED,
            objects=["algorithm:y"],
            details={
                "action": "publish",
                "from_state": "in_review",
                "to_state": "published",
                "register": "algorithms",
                "slug": '"><b>x</b>',
                "version": 2,
            },
        ),
        LedgerEvent(
            type=EventType.DATASET_ACCESS_RIGHTS_CHANGED,
            objects=["dataset:z"],
            details={
                "before": {"private": False, "access_rights": "PUBLIC"},
                "after": {"private": True, "access_rights": "RESTRICTED"},
            },
        ),
        LedgerEvent(type=EventType.DATASET_READ, objects=["dataset:z"], details={"channel": "download"}),
    )
    rejected = client.get("/transparency/entries/0", params={"lang": "ca"}).text
    assert "Decisió: rebutjada" in rejected
    assert "<script>alert(1)</script>" not in rejected and "Motiu: &lt;script&gt;alert(1)&lt;/script&gt;" in rejected

    published = client.get("/transparency/entries/1", params={"lang": "es"}).text
    for text in ("Acción: publicado", "Estado anterior: en revisión", "Estado nuevo: publicado", "Versión: 2"):
        assert text in published, text
    assert "<b>x</b>" not in published and 'href="/algorithms/&#34;&gt;&lt;b&gt;x&lt;/b&gt;"' in published
    assert published.index("Registro:") < published.index("Acción:") < published.index("Estado nuevo:")

    changed = client.get("/transparency/entries/2", params={"lang": "en"}).text
    assert "Before: Access rights: Public · Private: no" in changed
    assert "After: Access rights: Restricted · Private: yes" in changed

    listing = client.get("/transparency", params={"lang": "ca"}).text
    assert "(descàrrega de fitxer)" in listing and "(rebutjada)" in listing and "(enviat a revisió)" not in listing
    assert "(publicat)" in listing and "(download)" not in listing
