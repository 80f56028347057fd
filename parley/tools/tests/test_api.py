"""Pending actions in the inbox API: listing, approval and rejection by agents, and the follow-up beat task."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parley.audit.models import AuditEvent
from parley.commerce.models import Order, OrderStatus, Transaction
from parley.conversations.models import FollowUpStatus, FollowUpTask, Message, SenderType
from parley.testing import factories
from parley.tools.models import PendingAction, PendingActionStatus, ToolExecution
from parley.tools.service import confirm_pending_action, execute_tool
from parley.tools.tests.conftest import context_for
from parley.tools.tests.test_service import customer_says


def awaiting_approval(conversation: Any, number: str = "1002") -> PendingAction:
    context = context_for(conversation)
    proposed = execute_tool("refund_order", {"order_number": number, "reason": "broken mug"}, context)
    customer_says(conversation, "yes")
    assert confirm_pending_action(proposed.pending_action_id, context, confirmed=True).status == "needs_approval"
    return PendingAction.objects.get(pk=proposed.pending_action_id)


@pytest.mark.django_db
def test_agent_approves_and_refund_runs_and_customer_is_told(priya: Any, tenant: Any) -> None:
    pending = awaiting_approval(priya)
    agent = factories.make_user(tenant, "agent")
    client = APIClient()
    client.force_login(agent)
    listing = client.get("/api/v1/pending-actions/?status=awaiting_approval")
    assert listing.status_code == 200 and [row["id"] for row in listing.json()["results"]] == [str(pending.pk)]
    response = client.post(f"/api/v1/pending-actions/{pending.pk}/approve/", {"note": "ok, broken on arrival"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "executed" and body["decided_by_email"] == agent.email
    order = Order.objects.get(number="1002")
    assert order.status == OrderStatus.REFUNDED and Transaction.objects.get().amount == Decimal("180.00")
    told = Message.objects.filter(conversation=priya, sender_type=SenderType.ASSISTANT, is_private=False).last()
    assert told is not None and "180.00 EUR" in told.text
    assert ToolExecution.objects.filter(phase="approve", status="ok", approved_by=agent.email).exists()
    assert AuditEvent.objects.filter(action="tools.pending_action_approved", actor_user=agent).exists()
    again = client.post(f"/api/v1/pending-actions/{pending.pk}/approve/", {}, format="json")
    assert again.status_code == 409 and Transaction.objects.count() == 1


@pytest.mark.django_db
def test_agent_rejects_and_nothing_runs(priya: Any, tenant: Any) -> None:
    pending = awaiting_approval(priya)
    response = factories.api_client(tenant, "agent").post(
        f"/api/v1/pending-actions/{pending.pk}/reject/", {"note": "Outside the return window."}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert not Transaction.objects.exists() and Order.objects.get(number="1002").status == OrderStatus.DELIVERED
    told = Message.objects.filter(conversation=priya, sender_type=SenderType.ASSISTANT).last()
    assert told is not None and "could not approve" in told.text and "Outside the return window." in told.text


@pytest.mark.django_db
def test_decisions_need_support_role_and_valid_input(priya: Any, tenant: Any) -> None:
    pending = awaiting_approval(priya)
    analyst = factories.api_client(tenant, "analyst")
    assert analyst.get("/api/v1/pending-actions/").status_code == 403
    assert analyst.post(f"/api/v1/pending-actions/{pending.pk}/approve/", {}, format="json").status_code == 403
    agent = factories.api_client(tenant, "agent")
    bad = agent.post(f"/api/v1/pending-actions/{pending.pk}/approve/", {"note": "x", "amount": "9999"}, format="json")
    assert bad.status_code == 400 and "amount" in bad.json()["errors"]
    assert agent.post("/api/v1/pending-actions/not-a-uuid/approve/", {}, format="json").status_code == 404
    assert PendingAction.objects.get().status == PendingActionStatus.AWAITING_APPROVAL
    # an action still waiting for the customer's yes cannot be approved over their head
    customer_conversation = factories.make_conversation(priya.channel, sender="visitor-9")
    from parley.tools.tests.conftest import make_order

    make_order(customer_conversation.customer, "1009", total="20.00")
    proposed = execute_tool("refund_order", {"order_number": "1009", "reason": "late"}, context_for(customer_conversation))
    assert agent.post(f"/api/v1/pending-actions/{proposed.pending_action_id}/approve/", {}, format="json").status_code == 409


@pytest.mark.django_db
def test_tool_execution_audit_is_for_supervisors(maria: Any, tenant: Any) -> None:
    execute_tool("get_order_status", {"order_number": "1001"}, context_for(maria))
    assert factories.api_client(tenant, "agent").get("/api/v1/tool-executions/").status_code == 403
    rows = factories.api_client(tenant, "supervisor").get("/api/v1/tool-executions/?tool=get_order_status").json()["results"]
    assert len(rows) == 1 and rows[0]["status"] == "ok"


@pytest.mark.django_db
def test_schedule_followup_and_beat_task_sends_it_once(maria: Any) -> None:
    from parley.tools.tasks import send_due_followups

    result = execute_tool("schedule_followup", {"text": "Did your parcel arrive?", "in_minutes": 60}, context_for(maria))
    assert result.status == "ok"
    followup = FollowUpTask.objects.get()
    assert followup.customer_id == maria.customer_id and followup.status == FollowUpStatus.SCHEDULED
    assert send_due_followups.apply().get() == {}  # not due yet
    FollowUpTask.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert send_due_followups.apply().get() == {"sent": 1}
    assert send_due_followups.apply().get() == {}  # idempotent
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SENT and followup.sent_message is not None
    assert followup.sent_message.text == "Did your parcel arrive?" and followup.sent_message.sender_type == SenderType.ASSISTANT
    bad = execute_tool("schedule_followup", {"text": "x", "in_minutes": 1}, context_for(maria))
    assert bad.status == "error"


def test_followup_task_is_on_the_beat_schedule() -> None:
    from parley.config.celery import app
    from parley.tools import tasks  # noqa: F401

    assert app.conf.beat_schedule["tools-send-due-followups"]["task"] == "parley.tools.send_due_followups"


@pytest.mark.django_db
def test_expired_unconfirmed_actions_are_tidied(maria: Any) -> None:
    from parley.tools.tasks import expire_pending_actions

    execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context_for(maria))
    assert expire_pending_actions.apply().get() == 0
    PendingAction.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_pending_actions.apply().get() == 1
    assert PendingAction.objects.get().status == PendingActionStatus.EXPIRED


@pytest.mark.django_db(transaction=True)
def test_due_followup_is_sent_by_a_real_worker(celery_worker_thread: Any) -> None:
    import time

    from parley.tools.tasks import send_due_followups

    tenant = factories.make_tenant("followups-worker")
    conversation = factories.make_conversation(factories.make_channel(tenant), sender="visitor-7")
    context = context_for(conversation)
    assert (
        execute_tool("schedule_followup", {"text": "Is everything fine with your order?", "in_minutes": 5}, context).status
        == "ok"
    )
    FollowUpTask.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert send_due_followups.apply_async(queue="outbound").get(timeout=60) == {"sent": 1}
    followup = FollowUpTask.objects.get()
    assert followup.status == FollowUpStatus.SENT
    # the outbox then delivers it through the channel like any assistant message
    deadline = time.monotonic() + 30
    message = followup.sent_message
    assert message is not None
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.delivery_status in ("sent", "delivered", "read", "failed"):
            break
        time.sleep(0.2)
    assert message.delivery_status in ("sent", "delivered"), (message.delivery_status, message.delivery_error)
