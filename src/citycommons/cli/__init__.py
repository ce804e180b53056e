"""The ``citycommons`` command line: Typer commands that call the services like any other front door."""
