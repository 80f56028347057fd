"""Visitor attachments of the web chat: size limit, file type by content sniffing, storage.

The widget POSTs ``multipart/form-data`` (``file``, ``client_id``) to ``uploads_url`` with its visitor
token (see ``views.upload_view``). The declared ``Content-Type`` of the part is never trusted: the
type is read from the file's first bytes, and only images, audio (the widget's voice notes: Opus in
WebM or Ogg, AAC in MP4) and PDF documents are accepted. The message and its attachment are stored
through ``conversations.actions`` (idempotent on ``client_id``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from parley.connectors.base import InboundAttachment, InboundMessage, MediaFile
from parley.connectors.models import Channel
from parley.connectors.webchat import service
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Attachment, Message
from parley.core import uploads as core_uploads

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# Sniffed MIME type → (attachment kind, file extension).
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "image/jpeg": ("image", ".jpg"),
    "image/png": ("image", ".png"),
    "image/gif": ("image", ".gif"),
    "image/webp": ("image", ".webp"),
    "audio/ogg": ("audio", ".ogg"),
    "audio/webm": ("audio", ".webm"),
    "audio/mp4": ("audio", ".m4a"),
    "audio/mpeg": ("audio", ".mp3"),
    "audio/wav": ("audio", ".wav"),
    "application/pdf": ("document", ".pdf"),
}
VOICE_NOTE_NAME = "voice-message"  # what the widget's recorder names its files


# An upload refused with ``status`` (400, 413, 415, 422, 503), a protocol ``code`` and the reason.
UploadRejected = core_uploads.UploadRejected


def max_upload_bytes(channel: Channel) -> int:
    """The widget's limit (``config.max_upload_bytes``), never above the instance's ``PARLEY_MAX_UPLOAD_BYTES``."""
    instance = int(getattr(settings, "MAX_UPLOAD_BYTES", 0) or DEFAULT_MAX_UPLOAD_BYTES)
    config: Any = channel.config if isinstance(channel.config, dict) else {}
    configured = config.get("max_upload_bytes")
    if isinstance(configured, int) and 0 < configured < instance:
        return configured
    return instance


def uploads_enabled(channel_config: Any) -> bool:
    """Uploads are on unless the widget's config says ``"uploads_enabled": false``."""
    return not (isinstance(channel_config, dict) and channel_config.get("uploads_enabled") is False)


def allowed_types(channel: Channel) -> set[str]:
    """The MIME types this widget accepts: ``config.upload_types`` (a subset of ours) or all of ours."""
    config: Any = channel.config if isinstance(channel.config, dict) else {}
    configured = config.get("upload_types")
    if isinstance(configured, list) and configured:
        return {str(item) for item in configured} & set(ALLOWED_TYPES)
    return set(ALLOWED_TYPES)


def sniff_mime_type(content: bytes) -> str | None:
    """The MIME type the content's signature shows, among those we know; None otherwise."""
    head = content[:4096]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        # An audio codec's identification header opens the first page (no Theora video).
        return "audio/ogg" if (b"OpusHead" in head or b"\x01vorbis" in head or b"\x7fFLAC" in head) else None
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska
        audio_only = b"webm" in head[:64] and (b"A_OPUS" in head or b"A_VORBIS" in head) and b"V_" not in head
        return "audio/webm" if audio_only else None
    if head[4:8] == b"ftyp":  # ISO base media: audio only when no video track is described
        if head[8:12] in (b"M4A ", b"M4B ") or (b"soun" in content and b"vide" not in content):
            return "audio/mp4"
        return None
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 in (0xE2, 0xE4, 0xE6)):
        return "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _safe_filename(name: str, extension: str) -> str:
    stem = os.path.splitext(os.path.basename(name.replace("\\", "/")))[0]
    stem = re.sub(r"[^\w.\- ]+", "", stem).strip(" .")[:100] or "attachment"
    return stem + extension


@dataclass(frozen=True)
class Upload:
    """A stored upload: its message (with the attachment) and whether ``client_id`` was seen before."""

    message: Message
    duplicate: bool

    def ack(self, client_id: str) -> dict[str, Any]:
        return service.PostedMessage(message=self.message, duplicate=self.duplicate).ack(client_id)


def check_upload(channel: Channel, *, content: bytes, filename: str) -> tuple[str, str, str]:
    """Validate an uploaded file; returns ``(mime type, kind, safe filename)``.

    The content is scanned for malware when clamd is configured (see ``parley.core.uploads``).

    Raises:
        UploadRejected: 400 when empty, 413 when larger than the limit, 415 for a type not allowed,
            422 when clamd finds malware, 503 when clamd cannot scan it (failing closed).
    """
    if not content:
        raise UploadRejected(400, "invalid", "the file is empty")
    limit = max_upload_bytes(channel)
    if len(content) > limit:
        raise UploadRejected(413, "payload_too_large", f"files are limited to {limit} bytes")
    mime_type = sniff_mime_type(content)
    accepted = allowed_types(channel)
    if mime_type is None or mime_type not in accepted:
        found = mime_type or "unrecognised content"
        raise UploadRejected(
            415, "unsupported_media_type", f"file type not allowed ({found}); accepted: {', '.join(sorted(accepted))}"
        )
    kind, extension = ALLOWED_TYPES[mime_type]
    safe_name = _safe_filename(filename, extension)
    if kind == "audio" and safe_name.startswith(VOICE_NOTE_NAME):
        kind = "voice"
    core_uploads.check_upload_clean(content)
    return mime_type, kind, safe_name


def store_upload(channel: Channel, visitor: service.Visitor, *, client_id: str, content: bytes, filename: str) -> Upload:
    """Check and store a visitor's file as a message with one attachment, once per ``client_id``.

    The message is created by ``receive_inbound`` (inbox event, assistant turn on commit) and the
    file saved by ``store_attachment_media`` in the same transaction; a repeated ``client_id``
    returns the stored message and stores nothing.
    """
    mime_type, kind, safe_name = check_upload(channel, content=content, filename=filename)
    with transaction.atomic():
        result = conversation_actions.receive_inbound(
            channel=channel,
            inbound=InboundMessage(
                channel_type=service.CHANNEL_TYPE,
                external_id=f"{visitor.visitor_id}:{client_id}",
                sender_external_id=visitor.visitor_id,
                sender_name=visitor.profile.get("name", ""),
                content_type=kind,
                attachments=[InboundAttachment(kind=kind, mime_type=mime_type, filename=safe_name)],
                raw={"client_id": client_id, "upload": {"filename": safe_name, "mime_type": mime_type, "size": len(content)}},
            ),
        )
        if result.created and visitor.profile:
            service.fill_profile(result.conversation.customer, visitor.profile)
        for attachment in Attachment.objects.filter(message=result.message):
            if not attachment.file:
                conversation_actions.store_attachment_media(
                    attachment=attachment, media=MediaFile(content=content, mime_type=mime_type, filename=safe_name)
                )
    message = Message.objects.select_related("sender_user").prefetch_related("attachments").get(pk=result.message.pk)
    return Upload(message=message, duplicate=not result.created)


def widget_upload_settings(channel: Channel) -> dict[str, Any]:
    """What the widget's public settings carry so it shows the paperclip and microphone buttons:
    ``uploads_url`` (relative to the server) and ``max_upload_bytes``; nothing when uploads are off."""
    from django.urls import reverse

    if not uploads_enabled(channel.config):
        return {}
    return {
        "uploads_url": reverse("v1:webchat-uploads", kwargs={"widget_key": channel.key}),
        "max_upload_bytes": max_upload_bytes(channel),
    }


ATTACHMENT_SALT = "parley.webchat.attachment"


def attachment_url(attachment: Attachment) -> str:
    """An absolute, signed URL of a stored file for the visitor's page (``<img src>``, ``<audio src>``).

    The signature is the capability: the widget runs on the business's site, so the URL must work
    cross-origin and without headers. It names the attachment only; nothing else can be fetched.
    """
    from django.core import signing
    from django.urls import reverse

    signed = signing.Signer(salt=ATTACHMENT_SALT).sign(str(attachment.id))
    path = reverse("v1:webchat-attachment", kwargs={"signed": signed})
    return f"{str(settings.PUBLIC_URL).rstrip('/')}{path}"


def attachment_from_signed(signed: str) -> Attachment | None:
    """The web-chat attachment a signed URL names, or None when the signature is wrong."""
    import uuid

    from django.core import signing

    try:
        attachment_id = uuid.UUID(signing.Signer(salt=ATTACHMENT_SALT).unsign(signed))
    except (signing.BadSignature, ValueError):
        return None
    return (
        Attachment.objects.filter(id=attachment_id, message__channel__type=service.CHANNEL_TYPE, message__is_private=False)
        .exclude(file="")
        .first()
    )
