"""Payment providers: one interface, a deterministic local ``test`` provider, more can be registered.

A tenant picks its provider in ``Tenant.settings["payment_provider"]`` (default ``test``). Providers are
called with an idempotency key, so a retried refund never moves money twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings


class PaymentError(Exception):
    """The provider declined or failed; ``message`` is safe to show staff."""


@dataclass(frozen=True)
class ProviderPayment:
    provider_ref: str
    payment_url: str
    status: str


@dataclass(frozen=True)
class ProviderRefund:
    provider_ref: str
    status: str


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, *, amount: Decimal, currency: str, description: str, idempotency_key: str) -> ProviderPayment:
        """Ask the provider for a payment the customer completes (usually a hosted payment link)."""
        ...

    def refund(self, *, charge_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderRefund:
        """Return ``amount`` of an earlier charge to the customer."""
        ...


class TestPaymentProvider:
    """Local and deterministic: references derive from the idempotency key; nothing leaves the machine.

    Declines, like a real test mode, on magic amounts: a refund or payment of exactly 666.66 fails.
    """

    name = "test"
    DECLINE_AMOUNT = Decimal("666.66")

    def _ref(self, prefix: str, key: str) -> str:
        return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def create_payment(self, *, amount: Decimal, currency: str, description: str, idempotency_key: str) -> ProviderPayment:
        if amount <= 0 or amount == self.DECLINE_AMOUNT:
            raise PaymentError(f"test provider declined a payment of {amount} {currency}")
        ref = self._ref("test_pi", idempotency_key)
        base = getattr(settings, "PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
        return ProviderPayment(provider_ref=ref, payment_url=f"{base}/pay/test/{ref}", status="requires_payment")

    def refund(self, *, charge_ref: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderRefund:
        if amount <= 0 or amount == self.DECLINE_AMOUNT:
            raise PaymentError(f"test provider declined a refund of {amount} {currency}")
        return ProviderRefund(provider_ref=self._ref("test_re", idempotency_key), status="succeeded")


_PROVIDERS: dict[str, PaymentProvider] = {"test": TestPaymentProvider()}


def register_provider(provider: PaymentProvider) -> None:
    _PROVIDERS[provider.name] = provider


def provider_for(tenant: object) -> PaymentProvider:
    """The tenant's configured provider; an unknown name is a :class:`PaymentError`."""
    tenant_settings = getattr(tenant, "settings", None) or {}
    name = str(tenant_settings.get("payment_provider", "test"))
    if name not in _PROVIDERS:
        raise PaymentError(f"payment provider {name!r} is not installed")
    return _PROVIDERS[name]
