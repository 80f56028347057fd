"""Import a dataset as tenant conversations (called through :func:`parley.intelligence.actions.import_dataset`).

Bulk inserts in chunks; idempotent on (tenant, source, conversation external id): a dialogue already
imported is skipped. A queued import (a ``DatasetImport`` row run by a worker) tags its conversations with
the import's id (``metadata["dataset_import"]``), adds each chunk's counts to the row in the chunk's own
transaction (so a retry resumes where the last attempt stopped, without counting anything twice), and calls
a cancellation checkpoint between chunks. Dataset labels (intent, acts, slots, sentiment, ...) are kept in each message's
``metadata["labels"]``; original timestamps are kept when the dataset has them, otherwise messages get
one-second steps from the import time (``conversation.metadata["synthetic_timestamps"]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from parley.intelligence.datasets import Dialogue, load
from parley.intelligence.jobs import Checkpoint, JobCancelled

CHUNK = 300


@dataclass
class ImportReport:
    """What an import did, and the data quality report of the file."""

    import_id: str
    format: str
    path: str
    dialogues: int
    conversations_created: int
    conversations_skipped: int
    messages_created: int
    customers_created: int
    seconds: float
    quality: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "quality"}
        data["schema_errors"] = self.quality.get("schema_errors", {}).get("count", 0)
        return data


def _import_channel(tenant: Any, format: str) -> Any:
    from parley.connectors.actions import create_channel
    from parley.connectors.models import Channel, ChannelType

    channel = Channel.objects.filter(tenant=tenant, type=ChannelType.IMPORT, config__dataset=format).first()
    if channel is None:
        channel = create_channel(
            tenant=tenant,
            data={"type": ChannelType.IMPORT, "name": f"Imported: {format}", "config": {"dataset": format}},
            actor="import",
        )
    return channel


def _customers(tenant: Any, format: str, dialogues: list[Dialogue]) -> tuple[dict[str, Any], int]:
    from parley.customers.models import Customer, CustomerIdentity

    wanted = {f"{format}:{d.customer_id or d.id}" for d in dialogues}
    existing = {
        identity.external_id: identity.customer_id
        for identity in CustomerIdentity.objects.filter(tenant=tenant, channel_type="import", external_id__in=wanted)
    }
    new_ids = sorted(wanted - set(existing))
    customers = [Customer(tenant=tenant, name=external.split(":", 1)[1][:200]) for external in new_ids]
    Customer.objects.bulk_create(customers)
    CustomerIdentity.objects.bulk_create(
        [
            CustomerIdentity(
                tenant=tenant, customer=customer, channel_type="import", external_id=external, display_name=customer.name
            )
            for external, customer in zip(new_ids, customers, strict=True)
        ]
    )
    existing.update({external: customer.pk for external, customer in zip(new_ids, customers, strict=True)})
    return existing, len(customers)


def _import_chunk(
    tenant: Any,
    channel: Any,
    format: str,
    dialogues: list[Dialogue],
    started: datetime,
    mask: bool = False,
    import_id: str | None = None,
) -> tuple[int, int, int, int]:
    """Import one chunk; returns (conversations created, skipped, messages created, customers created).

    With ``import_id``, conversations that an earlier attempt of the same import created are neither
    created again nor counted as skipped (that attempt counted them already).
    """
    from parley.conversations.models import Conversation, ConversationStatus, DeliveryStatus, Direction, Message, SenderType
    from parley.intelligence.language import detect_language
    from parley.intelligence.preprocessing import preprocess

    found = dict(
        Conversation.objects.filter(tenant=tenant, source=format, external_id__in=[d.id for d in dialogues]).values_list(
            "external_id", "metadata__dataset_import"
        )
    )
    known = set(found)
    resumed = sum(1 for d in dialogues if import_id is not None and found.get(d.id) == import_id)
    fresh = [d for d in dialogues if d.id not in known and d.turns]
    if not fresh:
        return 0, len(dialogues) - resumed, 0, 0
    customer_ids, customers_created = _customers(tenant, format, fresh)
    conversations: list[Any] = []
    messages: list[Any] = []
    for d_index, dialogue in enumerate(fresh):
        synthetic = any(turn.timestamp is None for turn in dialogue.turns)
        base = started + timedelta(minutes=d_index)
        stamps = [
            turn.timestamp if not synthetic and turn.timestamp else base + timedelta(seconds=i)
            for i, turn in enumerate(dialogue.turns)
        ]
        first_customer = next((t.text for t in dialogue.turns if t.speaker == "customer"), dialogue.turns[0].text)
        first_response = next(
            (stamps[i] for i, t in enumerate(dialogue.turns) if t.speaker in ("agent", "assistant") and i > 0),
            None,
        )
        customer_stamps = [stamps[i] for i, t in enumerate(dialogue.turns) if t.speaker == "customer"]
        conversation = Conversation(
            tenant=tenant,
            channel=channel,
            customer_id=customer_ids[f"{format}:{dialogue.customer_id or dialogue.id}"],
            status=ConversationStatus.RESOLVED,
            subject=(preprocess(first_customer, mask=True) if mask else first_customer)[:300],
            language=detect_language(first_customer),
            source=format[:20],
            external_id=dialogue.id[:255],
            last_message_at=stamps[-1],
            last_customer_message_at=customer_stamps[-1] if customer_stamps else None,
            first_response_at=first_response,
            resolved_at=stamps[-1],
            message_count=len(dialogue.turns),
            metadata={
                "dataset": format,
                "synthetic_timestamps": synthetic,
                **_jsonable(dialogue.meta),
                **({"dataset_import": import_id} if import_id else {}),
            },
        )
        conversations.append(conversation)
        for index, (turn, stamp) in enumerate(zip(dialogue.turns, stamps, strict=True)):
            inbound = turn.speaker == "customer"
            messages.append(
                Message(
                    tenant=tenant,
                    conversation=conversation,
                    channel=channel,
                    direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                    sender_type={
                        "customer": SenderType.CUSTOMER,
                        "agent": SenderType.AGENT,
                        "assistant": SenderType.ASSISTANT,
                    }.get(turn.speaker, SenderType.SYSTEM),
                    text=preprocess(turn.text, mask=True) if mask else turn.text,
                    external_id=f"{format}:{dialogue.id}:{index}"[:255],
                    delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
                    sent_by_client_at=stamp,
                    metadata={"labels": _jsonable(turn.labels), "author": turn.author} if turn.labels or turn.author else {},
                )
            )
    Conversation.objects.bulk_create(conversations)
    Message.objects.bulk_create(messages)
    # created_at is auto_now_add: put the dataset's (or the synthetic, ordered) times back.
    firsts: dict[int, datetime] = {}
    for message in messages:
        message.created_at = message.sent_by_client_at
        firsts.setdefault(id(message.conversation), message.created_at)
    for conversation in conversations:
        conversation.created_at = firsts[id(conversation)]
    Conversation.objects.bulk_update(conversations, ["created_at"])
    Message.objects.bulk_update(messages, ["created_at"], batch_size=1000)
    return len(conversations), len(dialogues) - len(fresh) - resumed, len(messages), customers_created


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def run_import(
    tenant: Any,
    format: str,
    path: str | Path,
    *,
    limit: int | None = None,
    progress: bool = True,
    mask_pii: bool = False,
    record: Any = None,
    on_progress: Callable[[int, int], None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> ImportReport:
    """See :func:`parley.intelligence.actions.import_dataset`; ``record`` is an existing (queued)
    DatasetImport to fill in instead of creating one, ``on_progress(done, total)`` is called per chunk,
    ``checkpoint()`` before each chunk (it raises :class:`~parley.intelligence.jobs.JobCancelled` to stop).

    With ``record``, each chunk's counts are added to the row in the chunk's transaction, and the row is
    marked ``done`` only if it was not cancelled meanwhile (checked under a row lock).
    """
    from parley.intelligence.models import DatasetImport, ImportStatus
    from parley.intelligence.quality import quality_report

    check: Checkpoint = checkpoint or (lambda: None)
    clock = time.perf_counter()
    result = load(format, path)
    quality = quality_report(result)
    dialogues = result.as_dialogues()
    if limit is not None:
        dialogues = dialogues[:limit]
    check()
    import_id = str(record.pk) if record is not None else None
    channel = _import_channel(tenant, format)
    if on_progress is not None:
        on_progress(0, len(dialogues))
    started = timezone.now()
    created = skipped = messages = customers = 0
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(dialogues), desc=f"importing {format}", unit="conv")
    for start in range(0, len(dialogues), CHUNK):
        chunk = dialogues[start : start + CHUNK]
        check()
        with transaction.atomic():
            c, s, m, cu = _import_chunk(
                tenant, channel, format, chunk, started + timedelta(minutes=start), mask_pii, import_id=import_id
            )
            if record is not None:
                DatasetImport.objects.filter(pk=record.pk).update(
                    conversations_created=F("conversations_created") + c,
                    conversations_skipped=F("conversations_skipped") + s,
                    messages_created=F("messages_created") + m,
                )
        created, skipped, messages, customers = created + c, skipped + s, messages + m, customers + cu
        if bar is not None:
            bar.update(len(chunk))
        if on_progress is not None:
            on_progress(start + len(chunk), len(dialogues))
    if bar is not None:
        bar.close()
    outcome = {
        "conversations_created": created,
        "conversations_skipped": skipped,
        "messages_created": messages,
        "quality": quality,
    }
    if record is None:
        record = DatasetImport.objects.create(tenant=tenant, format=format, path=str(path), **outcome)
    else:
        with transaction.atomic():
            locked = DatasetImport.objects.select_for_update().get(pk=record.pk)
            if locked.status != ImportStatus.RUNNING:  # cancelled (or failed as stalled) meanwhile
                raise JobCancelled(import_id)
            # the counts were added chunk by chunk (over every attempt); keep the row's totals
            created, skipped, messages = locked.conversations_created, locked.conversations_skipped, locked.messages_created
            locked.quality = quality
            locked.status = ImportStatus.DONE
            locked.progress_done = locked.progress_total = len(dialogues)
            locked.finished_at = timezone.now()
            locked.error = ""  # a note left by a failed attempt before this one
            locked.save(
                update_fields=["quality", "status", "progress_done", "progress_total", "finished_at", "error", "updated_at"]
            )
        record = locked
    return ImportReport(
        import_id=str(record.id),
        format=format,
        path=str(path),
        dialogues=len(dialogues),
        conversations_created=created,
        conversations_skipped=skipped,
        messages_created=messages,
        customers_created=customers,
        seconds=round(time.perf_counter() - clock, 2),
        quality=quality,
    )
