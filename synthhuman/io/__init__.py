"""Writing and reading files: safe (atomic) writes now; dataset writers and readers later."""
