"""The transparency log: an append-only RFC 9162 Merkle tree of events, with Ed25519-signed tree heads.

``merkle``     RFC 9162 §2.1 hashing, proofs and their verification (pure).
``canonical``  the byte strings a verifier recomputes: entries (canonical JSON) and signed tree head data.
``schemas``    the event every capability appends (``LedgerEvent``), entries, tree heads, proofs.
``models``     ``ledger_entry``, ``ledger_node`` (perfect-subtree hashes), ``ledger_tree_head``.
``service``    ``append`` (the one function capabilities call), reads with proofs, tree heads, export, audit.
``keys``       the log's Ed25519 key in the data directory.
``verify``     the offline verifier behind ``citycommons log verify URL_OR_DIR``.
``record``     what capabilities call to log reads of non-open data, access-rights changes and role grants.
``api``        ``/api/v1/log/...`` (entries, proofs, tree heads, public key, export archives).
``pages``      ``/transparency`` and ``/transparency/entries/{index}``.
``jobs``       the signing key from the settings and the tree heads published at intervals (app lifespan).
``demo``       the demo city's reads of non-open datasets and its signed tree head.
"""
