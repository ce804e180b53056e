"""The datastore: uploaded tables become immutable, versioned Parquet files with a Frictionless Table Schema.

``facade`` is the only module importing duckdb. Entry points: ``ingest_file``, ``apply_schema_override`` and the
read helpers of ``versions``.
"""

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.ingest import ingest_file, preview_schema
from citycommons.datastore.overrides import apply_schema_override

__all__ = ["DatastoreConfig", "apply_schema_override", "ingest_file", "preview_schema"]
