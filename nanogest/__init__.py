"""``nanogest``: the one command over every stage (nanogest/cli.py), at the top of the import graph."""
