"""Events for ledger tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from citycommons.ledger.schemas import EventType, LedgerEvent
from citycommons.ledger.service import pseudonym

PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"
TYPES = list(EventType)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(n: int) -> LedgerEvent:
    """A deterministic event number ``n`` (type, subject and details vary with n)."""
    return LedgerEvent(
        type=TYPES[n % len(TYPES)],
        subjects=[pseudonym(PSEUDONYM_KEY, f"user-{n % 7}")],
        objects=[f"dataset:{n % 11}"],
        purpose="research" if n % 2 else None,
        details={"n": n, "rows": n * 3, "ok": n % 3 == 0},
        timestamp=T0 + timedelta(seconds=n),
    )
