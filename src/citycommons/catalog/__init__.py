"""Catalog: organisations, groups, datasets, distributions, tags, history, search."""
