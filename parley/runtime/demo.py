"""Demo data for ``parley up``: a tenant, people with each role, a web-chat channel, customers and
conversations. Idempotent. Apps add their own demo data in ``parley/<app>/demo.py`` (``seed(tenant)``)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.db import transaction

from parley.accounts import actions as account_actions
from parley.accounts.models import Role, Tenant, User
from parley.connectors.base import InboundMessage
from parley.connectors.models import Channel, ChannelType
from parley.conversations import actions as conversation_actions
from parley.conversations.models import SenderType

DEMO_TENANT = "demo"
DEMO_EMAIL = "demo@parley.local"
DEMO_PASSWORD = "parley-demo-2026"
DEMO_PEOPLE = [
    (DEMO_EMAIL, "Dana Demo", Role.OWNER),
    ("agent@parley.local", "Alex Agent", Role.AGENT),
    ("supervisor@parley.local", "Sam Supervisor", Role.SUPERVISOR),
    ("analyst@parley.local", "Ana Analyst", Role.ANALYST),
]
DEMO_CONVERSATIONS = [
    ("visitor-1", "Maria Lopez", ["Hi, where is my order #1001?", "It was supposed to arrive yesterday."]),
    ("visitor-2", "John Smith", ["How do I reset my password?"]),
    ("visitor-3", "Priya Patel", ["I want a refund for order #1002, the mug arrived broken."]),
]


def seed_demo() -> Tenant:
    """Create the demo tenant and its data if missing; returns the tenant."""
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
        if tenant is None:
            tenant = account_actions.create_tenant(slug=DEMO_TENANT, name="Demo Shop")
        for email, name, role in DEMO_PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = account_actions.create_user(email=email, password=DEMO_PASSWORD, name=name)
            account_actions.add_member(tenant=tenant, user=user, role=role, actor="demo-seed")
        channel = Channel.objects.filter(tenant=tenant, type=ChannelType.WEBCHAT).first()
        if channel is None:
            channel = Channel.objects.create(
                tenant=tenant,
                type=ChannelType.WEBCHAT,
                name="Website chat",
                key="demo-widget",
                config={
                    "allowed_origins": ["http://127.0.0.1:8000", "http://localhost:8000"],
                    "greeting": "Hi! How can we help?",
                },
            )
        for visitor_id, name, texts in DEMO_CONVERSATIONS:
            for index, text in enumerate(texts):
                conversation_actions.receive_inbound(
                    channel=channel,
                    inbound=InboundMessage(
                        channel_type="webchat",
                        external_id=f"demo-{visitor_id}-{index}",
                        sender_external_id=visitor_id,
                        sender_name=name,
                        text=text,
                    ),
                    enqueue_turn=False,
                )
        first = channel.conversations.order_by("created_at").first()
        if first is not None and not first.messages.filter(sender_type=SenderType.AGENT).exists():
            conversation_actions.send_outbound(
                conversation=first,
                text="Checking with the warehouse, one moment.",
                sender_type=SenderType.AGENT,
                is_private=True,
                sender_user=User.objects.get(email="agent@parley.local"),
            )
    for app_name in settings.INSTALLED_APPS:
        module_name = f"{app_name}.demo"
        if app_name.startswith("parley.") and find_spec(module_name) is not None:
            import_module(module_name).seed(tenant)
    return tenant
