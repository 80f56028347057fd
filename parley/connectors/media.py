"""Inbound media from providers (WhatsApp, Messenger, the generic channel): the checks a downloaded
file passes before it is stored as an attachment.

The size limit (``PARLEY_MAX_MEDIA_BYTES``) is enforced while downloading (``http.download``); the
malware scan runs here, on the complete file, through ``parley.core.uploads``.
"""

from __future__ import annotations

from parley.connectors.base import DeliveryError, MediaFile, MediaRejected
from parley.core.uploads import ScannerUnavailable, ScanVerdict, scan


def check_media(media: MediaFile) -> ScanVerdict:
    """Scan downloaded media when a scanner is configured.

    Returns:
        The verdict (``clean``, ``not_configured`` or ``unscanned`` when clamd failed and the
        instance fails open).

    Raises:
        MediaRejected: ``quarantined`` when clamd finds malware (the file must not be stored).
        DeliveryError: retryable, when clamd fails and the instance fails closed: the download task
            retries with backoff and ends as a replayable dead letter; nothing is stored meanwhile.
    """
    try:
        verdict = scan(media.content)
    except ScannerUnavailable as exc:
        raise DeliveryError(f"media not stored until it can be scanned for malware: {exc}", retryable=True) from exc
    if verdict.infected:
        raise MediaRejected(MediaRejected.QUARANTINED, f"malware found by the scanner ({verdict.signature})")
    return verdict
