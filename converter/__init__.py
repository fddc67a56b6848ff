"""nanogest converter."""
