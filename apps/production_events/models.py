"""Models of production_events."""
