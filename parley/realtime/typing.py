"""Typing indicators: who is typing in a conversation, published to its inbox and web-chat sockets.

Typing is not stored; these helpers only publish :class:`~parley.realtime.events.TypingEvent`.
The web-chat consumer forwards agent and assistant typing to the visitor; the live inbox shows
customer, agent and assistant typing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from parley.realtime.events import TypingEvent, conversation_group, inbox_group, send_event_on_commit

log = structlog.get_logger(__name__)


def publish_typing(*, tenant_id: Any, conversation_id: Any, sender_type: str, is_typing: bool, sender_name: str = "") -> None:
    """Tell the conversation's inbox and web-chat sockets that someone started or stopped typing.

    Args:
        tenant_id: the conversation's tenant.
        conversation_id: the conversation.
        sender_type: ``customer``, ``agent`` or ``assistant``.
        is_typing: started (True) or stopped (False).
        sender_name: a display name (an agent's name), shown in the inbox.
    """
    send_event_on_commit(
        TypingEvent(
            type="typing",
            tenant_id=str(tenant_id),
            conversation_id=str(conversation_id),
            sender_type=sender_type,
            sender_name=sender_name,
            is_typing=is_typing,
        ),
        [inbox_group(tenant_id), conversation_group(conversation_id)],
    )


@contextmanager
def typing_indicator(conversation: Any, *, sender_type: str, active: bool = True) -> Iterator[None]:
    """Show ``sender_type`` typing in ``conversation`` while the block runs (e.g. an assistant turn).

    A failure to publish never breaks the work inside the block; "stopped" is sent even when the
    block raises.
    """
    if not active:
        yield
        return
    _safe_publish(conversation, sender_type, True)
    try:
        yield
    finally:
        _safe_publish(conversation, sender_type, False)


def _safe_publish(conversation: Any, sender_type: str, is_typing: bool) -> None:
    try:
        publish_typing(
            tenant_id=conversation.tenant_id, conversation_id=conversation.pk, sender_type=sender_type, is_typing=is_typing
        )
    except Exception:
        log.warning("typing_publish_failed", conversation_id=str(conversation.pk), exc_info=True)
