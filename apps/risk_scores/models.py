"""Models of risk_scores."""
