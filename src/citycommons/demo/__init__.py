"""The demo city: a plausible Barcelona built by a seeded generator (``citycommons demo``). No network, no copies."""
