from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.conversations.models import Conversation, Message
from parley.intelligence.actions import import_dataset
from parley.intelligence.datasets import DatasetError
from parley.intelligence.models import DatasetImport

FIXTURES = Path(__file__).parent / "fixtures"


def test_import_synthetic_conversations_is_idempotent(tenant: Any, other_tenant: Any) -> None:
    report = import_dataset(tenant, "synthetic", FIXTURES / "synthetic_support.csv", progress=False)
    assert (report.conversations_created, report.messages_created, report.customers_created) == (2, 6, 2)
    assert report.quality["schema_errors"]["count"] == 2
    conversation = Conversation.objects.get(tenant=tenant, source="synthetic", external_id="c1")
    assert conversation.channel.type == "import"
    assert conversation.message_count == 4 and conversation.status == "resolved"
    messages = list(Message.objects.filter(conversation=conversation).order_by("created_at"))
    assert [(m.direction, m.sender_type) for m in messages] == [
        ("inbound", "customer"),
        ("outbound", "agent"),
        ("inbound", "customer"),
        ("outbound", "agent"),
    ]
    assert messages[0].metadata["labels"] == {"intent": "delivery", "sentiment": "negative"}
    assert messages[0].created_at.isoformat() == "2026-01-05T10:00:00+00:00"  # the dataset's own time
    assert conversation.first_response_at is not None and conversation.first_response_at.minute == 1

    again = import_dataset(tenant, "synthetic", FIXTURES / "synthetic_support.csv", progress=False)
    assert (again.conversations_created, again.conversations_skipped, again.messages_created) == (0, 2, 0)
    assert Conversation.objects.filter(tenant=tenant, source="synthetic").count() == 2
    assert DatasetImport.objects.filter(tenant=tenant).count() == 2
    assert not Conversation.objects.filter(tenant=other_tenant).exists()


def test_import_twcs_threads_with_limit(tenant: Any) -> None:
    report = import_dataset(tenant, "twcs", FIXTURES / "twcs_mini.csv", limit=2, progress=False)
    assert report.conversations_created == 2
    thread = Conversation.objects.get(tenant=tenant, source="twcs", external_id="3")
    texts = list(Message.objects.filter(conversation=thread).order_by("created_at").values_list("text", flat=True))
    assert texts[0] == "@AcmeSupport my order never arrived" and len(texts) == 3


def test_import_of_a_wrong_file_is_a_dataset_error(tenant: Any) -> None:
    with pytest.raises(DatasetError):
        import_dataset(tenant, "twcs", FIXTURES / "synthetic_support.csv", progress=False)


def test_import_can_mask_pii(tenant: Any, tmp_path: Path) -> None:
    path = tmp_path / "convs.csv"
    path.write_text("conversation_id,turn,speaker,text\nk1,1,customer,mail me at jane@example.com or call +44 20 7946 0958\n")
    import_dataset(tenant, "synthetic", path, progress=False, mask_pii=True)
    message = Message.objects.get(tenant=tenant, conversation__external_id="k1")
    assert message.text == "mail me at [EMAIL] or call [PHONE]"


def test_imported_customer_messages_get_analysed_once(tenant: Any) -> None:
    from parley.intelligence.actions import analyse_stored_messages

    import_dataset(tenant, "synthetic", FIXTURES / "synthetic_support.csv", progress=False)
    ids = list(Message.objects.filter(tenant=tenant).values_list("id", flat=True))
    assert analyse_stored_messages(message_ids=ids) == 3  # customer messages only
    analysed = Message.objects.filter(tenant=tenant).exclude(analysis={})
    assert {m.sender_type for m in analysed} == {"customer"}
    refund = analysed.get(text="I want a refund")
    assert refund.analysis["language"] == "en" and refund.analysis["sentiment"] in {"negative", "neutral", "positive"}
    assert analyse_stored_messages(message_ids=ids) == 0
    assert analyse_stored_messages(message_ids=ids, force=True) == 3
