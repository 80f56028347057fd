"""Demo data for analytics: facts and roll-ups of the demo conversations, and two example alert rules."""

from __future__ import annotations

from typing import Any

from parley.analytics import actions
from parley.analytics.batch import analyse_tenant
from parley.analytics.models import AlertRule

DEMO_RULES = [
    {
        "name": "Negative sentiment over 30% in 15 minutes",
        "metric": "negative_sentiment_share",
        "threshold": 30.0,
        "window_minutes": 15,
        "min_volume": 5,
    },
    {"name": "Queue wait over 10 minutes", "metric": "queue_wait_minutes", "threshold": 10.0, "window_minutes": 15},
]


def seed(tenant: Any) -> None:
    """Idempotent: rules are created once (by name); facts and roll-ups are recomputed."""
    for rule in DEMO_RULES:
        if not AlertRule.objects.filter(tenant=tenant, name=rule["name"]).exists():
            actions.create_alert_rule(tenant=tenant, data=dict(rule), actor="system:demo")
    analyse_tenant(tenant, analyse=False)
