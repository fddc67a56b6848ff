"""nanogest training."""
