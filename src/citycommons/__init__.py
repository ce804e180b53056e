"""citycommons: a self-hostable City Data Commons."""

__version__ = "0.1.0"
