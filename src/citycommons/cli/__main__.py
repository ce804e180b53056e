"""``python -m citycommons.cli``: the same as the ``citycommons`` command."""

from citycommons.cli.main import app

app()
