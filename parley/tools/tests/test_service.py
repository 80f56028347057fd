"""The tools layer on the real database: scope, allow-list, schema validation, confirmations, approvals, audit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from parley.audit.models import AuditEvent
from parley.commerce.models import Order, OrderStatus, PaymentIntent, Transaction
from parley.conversations.models import Message, Ticket
from parley.llm.types import ToolCall
from parley.testing import factories
from parley.tools.models import PendingAction, PendingActionStatus, ToolExecution
from parley.tools.service import (
    confirm_pending_action,
    execute_tool,
    pending_action_for,
    tool_call_validator,
    tool_specs,
)
from parley.tools.tests.conftest import context_for, make_order


def customer_says(conversation: Any, text: str) -> None:
    factories.inbound(conversation.channel, text, sender=conversation.customer.identities.first().external_id)


def test_tool_specs_are_json_schemas_of_the_allowed_tools() -> None:
    specs = {spec.name: spec for spec in tool_specs(["get_order_status", "refund_order", "no_such_tool"])}
    assert set(specs) == {"get_order_status", "refund_order"}
    schema = specs["get_order_status"].parameters
    assert schema["type"] == "object" and schema["required"] == ["order_number"] and schema["additionalProperties"] is False
    assert "title" not in schema and "confirm" in specs["refund_order"].description


@pytest.mark.django_db
def test_get_order_status_returns_own_order(maria: Any) -> None:
    result = execute_tool("get_order_status", {"order_number": "#1001"}, context_for(maria))
    assert result.status == "ok", result
    assert result.data["number"] == "1001" and result.data["status"] == "shipped" and result.data["tracking_number"] == "TRK1001"
    execution = ToolExecution.objects.get()
    assert execution.tool == "get_order_status" and execution.status == "ok" and execution.arguments == {"order_number": "#1001"}
    assert execution.customer_id == maria.customer_id and execution.actor == "assistant:assistant-1"


@pytest.mark.django_db
def test_another_customers_order_is_not_found(maria: Any, priya: Any, other_tenant: Any) -> None:
    result = execute_tool("get_order_status", {"order_number": "1002"}, context_for(maria))
    assert result.status == "error" and "couldn't find order 1002" in result.message
    assert "180" not in result.model_dump_json()
    # an order of another tenant with the same number is invisible too
    foreign_conversation = factories.make_conversation(factories.make_channel(other_tenant), sender="visitor-1")
    make_order(foreign_conversation.customer, "2001")
    assert execute_tool("get_order_status", {"order_number": "2001"}, context_for(maria)).status == "error"
    listing = execute_tool("list_customer_orders", {}, context_for(maria))
    assert sorted(o["number"] for o in listing.data["orders"]) == ["1001", "1003"]


@pytest.mark.django_db
def test_context_with_mismatched_customer_is_refused_and_audited(maria: Any, priya: Any) -> None:
    context = context_for(maria)
    context.customer = priya.customer  # the conversation is Maria's
    result = execute_tool("get_order_status", {"order_number": "1002"}, context)
    assert result.status == "refused"
    assert AuditEvent.objects.filter(action="tools.call_refused", data__tool="get_order_status").exists()


@pytest.mark.django_db
def test_tool_not_on_allow_list_or_unknown_is_refused_and_audited(maria: Any) -> None:
    context = context_for(maria, allowed={"get_order_status"})
    assert execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context).status == "refused"
    assert execute_tool("drop_tables", {}, context).status == "refused"
    assert not PendingAction.objects.exists()
    reasons = sorted(AuditEvent.objects.filter(action="tools.call_refused").values_list("data__reason", flat=True))
    assert reasons == ["not on the assistant's allow-list", "unknown tool 'drop_tables'"]
    assert ToolExecution.objects.filter(status="refused").count() == 2


@pytest.mark.django_db
def test_malformed_arguments_never_execute(maria: Any) -> None:
    context = context_for(maria)
    for arguments in ({"order_number": 1001}, {"order_number": "1001", "sneaky": "drop"}, {}, ["1001"]):
        result = execute_tool("get_order_status", arguments, context)  # type: ignore[arg-type]
        assert result.status == "error" and result.data["error"]
    bad_refund = execute_tool("refund_order", {"order_number": "1001", "amount": "-5", "reason": "x y z"}, context)
    assert bad_refund.status == "error" and not PendingAction.objects.exists()
    # a call whose JSON could not be parsed carries a key no schema accepts, so it cannot run by accident
    from parley.llm.types import unparseable_call

    broken = unparseable_call("c", "get_customer_profile", '{"x": ', "arguments are not valid JSON")
    assert execute_tool(broken.name, broken.arguments, context).status == "error"
    assert ToolExecution.objects.filter(tool="get_customer_profile", status="ok").count() == 0
    validate = tool_call_validator({"get_order_status"})
    assert validate(ToolCall(id="1", name="get_order_status", arguments={"order_number": "1001"})) is None
    assert "invalid arguments" in (validate(ToolCall(id="2", name="get_order_status", arguments={"order_number": 5})) or "")
    assert "not allowed" in (validate(ToolCall(id="3", name="refund_order", arguments={})) or "")
    assert validate(ToolCall(id="4", name="get_order_status", arguments={}, parse_error="not JSON")) == "not JSON"


@pytest.mark.django_db
def test_refund_requested_by_the_model_only_creates_a_pending_action(maria: Any) -> None:
    result = execute_tool("refund_order", {"order_number": "1001", "reason": "arrived broken"}, context_for(maria))
    assert result.status == "needs_confirmation" and result.pending_action_id
    assert "refund 49.90 EUR for order #1001" in result.message
    order = Order.objects.get(number="1001")
    assert order.status == OrderStatus.SHIPPED and not Transaction.objects.exists()
    pending = pending_action_for(maria)
    assert pending is not None and str(pending.pk) == result.pending_action_id and not pending.requires_approval


@pytest.mark.django_db
def test_confirmation_in_the_same_turn_is_refused(maria: Any) -> None:
    context = context_for(maria)
    proposed = execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context)
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=True)
    assert result.status == "refused" and not Transaction.objects.exists()
    assert PendingAction.objects.get().status == PendingActionStatus.AWAITING_CONFIRMATION


@pytest.mark.django_db
def test_customer_confirmation_in_a_later_turn_refunds_once(maria: Any) -> None:
    context = context_for(maria)
    proposed = execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context)
    customer_says(maria, "yes please")
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=True)
    assert result.status == "ok", result
    order = Order.objects.get(number="1001")
    assert order.status == OrderStatus.REFUNDED and order.refunded_amount == Decimal("49.90")
    refund = Transaction.objects.get()
    assert refund.kind == "refund" and refund.amount == Decimal("49.90") and refund.provider == "test"
    assert refund.provider_ref in result.message
    assert PendingAction.objects.get().status == PendingActionStatus.EXECUTED
    # used once: a second confirmation is refused and moves no money
    assert confirm_pending_action(proposed.pending_action_id, context, confirmed=True).status == "refused"
    assert Transaction.objects.count() == 1
    assert AuditEvent.objects.filter(action="commerce.order_refunded").count() == 1
    phases = list(ToolExecution.objects.order_by("created_at").values_list("phase", "status", "approved_by"))
    assert phases[:2] == [("call", "needs_confirmation", ""), ("confirm", "ok", "customer")]


@pytest.mark.django_db
def test_customer_can_decline(maria: Any) -> None:
    context = context_for(maria)
    proposed = execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context)
    customer_says(maria, "no, keep it")
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=False)
    assert result.status == "ok" and result.data == {"cancelled": True}
    assert PendingAction.objects.get().status == PendingActionStatus.CANCELLED and not Transaction.objects.exists()
    assert pending_action_for(maria) is None


@pytest.mark.django_db
def test_expired_confirmation_does_nothing(maria: Any) -> None:
    context = context_for(maria)
    proposed = execute_tool("refund_order", {"order_number": "1001", "reason": "broken"}, context)
    PendingAction.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    customer_says(maria, "yes")
    assert pending_action_for(maria) is None
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=True)
    assert result.status == "error" and "expired" in result.message
    assert PendingAction.objects.get().status == PendingActionStatus.EXPIRED and not Transaction.objects.exists()


@pytest.mark.django_db
def test_pending_action_of_another_conversation_cannot_be_confirmed(maria: Any, priya: Any) -> None:
    proposed = execute_tool("refund_order", {"order_number": "1002", "reason": "broken mug"}, context_for(priya))
    customer_says(maria, "yes")
    customer_says(priya, "hmm")
    result = confirm_pending_action(proposed.pending_action_id, context_for(maria), confirmed=True)
    assert result.status == "refused" and not Transaction.objects.exists()
    assert confirm_pending_action("not-a-uuid", context_for(maria), confirmed=True).status == "refused"
    assert AuditEvent.objects.filter(action="tools.call_refused").count() == 2


@pytest.mark.django_db
def test_amount_above_limit_needs_agent_approval(priya: Any) -> None:
    context = context_for(priya)
    proposed = execute_tool("refund_order", {"order_number": "1002", "reason": "broken mug"}, context)
    assert PendingAction.objects.get().requires_approval  # 180.00 > default limit 100.00
    customer_says(priya, "yes")
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=True)
    assert result.status == "needs_approval" and not Transaction.objects.exists()
    assert PendingAction.objects.get().status == PendingActionStatus.AWAITING_APPROVAL
    note = Message.objects.get(conversation=priya, is_private=True)
    assert "Approval needed" in note.text


@pytest.mark.django_db
def test_tenant_approval_limit_setting(priya: Any) -> None:
    priya.tenant.settings = {"approval_limit": "500"}
    priya.tenant.save()
    priya.refresh_from_db()
    execute_tool("refund_order", {"order_number": "1002", "reason": "broken mug"}, context_for(priya))
    assert PendingAction.objects.get().requires_approval is False


@pytest.mark.django_db
def test_partial_refund_and_over_refund(maria: Any) -> None:
    context = context_for(maria)
    over = execute_tool("refund_order", {"order_number": "1001", "amount": "60.00", "reason": "broken"}, context)
    assert over.status == "error" and "at most 49.90" in over.message
    proposed = execute_tool("refund_order", {"order_number": "1001", "amount": "10.00", "reason": "one broken"}, context)
    customer_says(maria, "yes")
    assert confirm_pending_action(proposed.pending_action_id, context, confirmed=True).status == "ok"
    order = Order.objects.get(number="1001")
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_amount == Decimal("10.00")


@pytest.mark.django_db
def test_payment_link_after_confirmation(maria: Any) -> None:
    maria.tenant.settings = {"approval_limit": "1000"}
    maria.tenant.save()
    context = context_for(maria)
    context.tenant.refresh_from_db()
    assert execute_tool("create_payment_intent", {"order_number": "1001"}, context).status == "error"  # already paid
    proposed = execute_tool("create_payment_intent", {"order_number": "1003"}, context)
    assert proposed.status == "needs_confirmation" and not PaymentIntent.objects.exists()
    customer_says(maria, "yes")
    result = confirm_pending_action(proposed.pending_action_id, context, confirmed=True)
    assert result.status == "ok"
    intent = PaymentIntent.objects.get()
    assert (
        intent.amount == Decimal("250.00") and intent.payment_url in result.message and intent.provider_ref.startswith("test_pi_")
    )


@pytest.mark.django_db
def test_create_ticket_and_profile(maria: Any) -> None:
    context = context_for(maria)
    result = execute_tool(
        "create_ticket", {"subject": "Parcel lost", "description": "No tracking for 5 days", "priority": "high"}, context
    )
    assert result.status == "ok"
    ticket = Ticket.objects.get(pk=result.data["ticket_id"])
    assert (
        ticket.customer_id == maria.customer_id
        and ticket.conversation_id == maria.pk
        and ticket.created_by == "assistant:assistant-1"
    )
    profile = execute_tool("get_customer_profile", {}, context)
    assert profile.status == "ok" and profile.data["order_count"] == 2 and profile.data["open_ticket_count"] == 1


@pytest.mark.django_db
def test_search_knowledge_returns_cited_passages_of_this_tenant(maria: Any, other_tenant: Any) -> None:
    from parley.knowledge.tests.helpers import index_text, make_source

    index_text(
        make_source(maria.tenant), "Returns and refunds", "# Returns\n\nYou can return any item within 30 days for a full refund."
    )
    index_text(make_source(other_tenant), "Globex secret returns", "# Returns\n\nGlobex staff get 365 days to return items.")
    result = execute_tool("search_knowledge", {"query": "how many days do I have to return an item?"}, context_for(maria))
    assert result.status == "ok", result
    passages = result.data["passages"]
    assert passages and passages[0]["title"] == "Returns and refunds" and "30 days" in passages[0]["text"]
    assert "Globex" not in result.model_dump_json()


@pytest.mark.django_db
def test_search_knowledge_without_knowledge_module_is_an_error_not_fake_results(maria: Any, monkeypatch: Any) -> None:
    import parley.tools.builtin.knowledge as tool_module

    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(tool_module, "import_module", missing)
    result = execute_tool("search_knowledge", {"query": "returns"}, context_for(maria))
    assert result.status == "error" and result.message == "knowledge base unavailable" and result.data == {}


@pytest.mark.django_db
def test_broken_tool_is_an_error_not_a_crash(maria: Any, monkeypatch: Any) -> None:
    from parley.tools.builtin.orders import GetOrderStatus

    def boom(self: Any, args: Any, context: Any) -> Any:
        raise RuntimeError("database on fire: secret internals")

    monkeypatch.setattr(GetOrderStatus, "run", boom)
    result = execute_tool("get_order_status", {"order_number": "1001"}, context_for(maria))
    assert result.status == "error" and "secret" not in result.message
    assert "database on fire" in ToolExecution.objects.get().error


@pytest.mark.django_db
def test_handover_to_human_moves_the_conversation_to_the_human_queue(maria: Any) -> None:
    handover = pytest.importorskip("parley.handover.actions")
    assert hasattr(handover, "request_handover")
    result = execute_tool(
        "handover_to_human", {"reason": "customer asked for a person", "summary": "Late parcel #1001"}, context_for(maria)
    )
    assert result.status == "ok", result
    maria.refresh_from_db()
    assert maria.status in ("pending_human", "assigned") and result.data["conversation_status"] == maria.status


@pytest.mark.django_db
def test_handover_without_handover_module_is_an_error(maria: Any, monkeypatch: Any) -> None:
    import parley.tools.builtin.handover as tool_module

    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(tool_module, "import_module", missing)
    result = execute_tool("handover_to_human", {"reason": "help"}, context_for(maria))
    assert result.status == "error" and result.message == "handover unavailable"
