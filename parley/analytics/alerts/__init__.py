"""Alert rules: evaluation (threshold / anomaly) and delivery (in-app, e-mail, signed webhook)."""
