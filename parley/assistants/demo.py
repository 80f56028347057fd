"""Demo assistant for the demo shop (idempotent): answers from the help centre, looks up and refunds
orders with confirmation, hands over to the demo agents (online, capacity 5) with canned responses."""

from __future__ import annotations

from typing import Any

from parley.accounts.models import Membership, Role

DEMO_ASSISTANT = "Shop assistant"
DEMO_TOOLS = [
    "get_order_status",
    "list_customer_orders",
    "refund_order",
    "create_payment_intent",
    "create_ticket",
    "get_customer_profile",
    "handover_to_human",
]
CANNED = [
    ("hello", "Greeting", "Hi {{customer.first_name}}, this is {{agent.name}} from {{tenant.name}}. How can I help?"),
    ("late", "Late parcel", "Sorry your parcel is late, {{customer.first_name}}. I'm checking with the carrier right now."),
    ("bye", "Closing", "Thanks for contacting {{tenant.name}}, {{customer.first_name}}. Have a lovely day!"),
]


def seed(tenant: Any) -> None:
    """Create the demo assistant, agent profiles and canned responses if missing."""
    from parley.assistants.actions import create_assistant
    from parley.assistants.models import Assistant
    from parley.handover import actions as handover
    from parley.handover.models import CannedResponse

    if not Assistant.objects.filter(tenant=tenant, name=DEMO_ASSISTANT).exists():
        from parley.tools.registry import all_tools

        known = set(all_tools())
        create_assistant(
            tenant=tenant,
            data={
                "name": DEMO_ASSISTANT,
                "description": "Answers from the help centre, tracks and refunds orders, hands over to the team.",
                "is_default": True,
                "persona": "You are the friendly assistant of Demo Shop, a home-goods web shop. Be warm and brief.",
                "instructions": "Answer from the help centre only.\nLook orders up by number.\nRefunds need the customer's confirmation.",
                "allowed_tools": [name for name in DEMO_TOOLS if name in known],
                "languages": ["en", "es", "de", "fr"],
                "handover_rules": {"negative_sentiment_threshold": -0.6, "low_confidence_turns": 2},
                "business_hours": {
                    "timezone": "Europe/Berlin",
                    "days": {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
                },
            },
            actor="demo-seed",
        )
    for membership in Membership.objects.filter(tenant=tenant, role__in=[Role.AGENT, Role.SUPERVISOR]).select_related("user"):
        profile = handover.ensure_profile(tenant=tenant, user=membership.user)
        if profile.status_changed_at is None:
            handover.update_agent(
                profile=profile, changes={"status": "online", "capacity": 5, "languages": ["en", "es", "de"]}, actor="demo-seed"
            )
    for shortcut, title, text in CANNED:
        if not CannedResponse.objects.filter(tenant=tenant, shortcut=shortcut).exists():
            handover.save_canned_response(
                tenant=tenant, data={"shortcut": shortcut, "title": title, "text": text}, actor="demo-seed"
            )
