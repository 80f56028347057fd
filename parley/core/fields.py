"""An encrypted JSON model field (Fernet, key from PARLEY_ENCRYPTION_KEY or derived from SECRET_KEY)."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def get_fernet() -> Fernet:
    """The Fernet used for secrets at rest."""
    return _fernet(settings.ENCRYPTION_KEY or f"parley-secrets:{settings.SECRET_KEY}")


if TYPE_CHECKING:
    _TextBase = models.TextField[Any, Any]
else:
    _TextBase = models.TextField


class EncryptedJSONField(_TextBase):
    """Stores a JSON value encrypted; reads return the decrypted value."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        try:
            return json.loads(get_fernet().decrypt(value.encode()).decode())
        except InvalidToken as exc:
            raise ValueError("cannot decrypt channel credentials: was PARLEY_ENCRYPTION_KEY changed?") from exc

    def to_python(self, value: Any) -> Any:
        if isinstance(value, (dict, list)) or value is None:
            return value if value is not None else {}
        return self.from_db_value(value, None, None)

    def get_prep_value(self, value: Any) -> str:
        return get_fernet().encrypt(json.dumps(value if value is not None else {}).encode()).decode()
