"""Analytics app: tests."""
