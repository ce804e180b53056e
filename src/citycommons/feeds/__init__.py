"""Atom feeds of new and changed datasets, and the sitemap."""
