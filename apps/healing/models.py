"""Models of healing."""
