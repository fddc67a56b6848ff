"""nanogest capture."""
