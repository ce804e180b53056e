"""Readers turn a source file into a ``Staged`` scan DuckDB can read: one module per format."""
