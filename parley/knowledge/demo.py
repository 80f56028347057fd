"""Demo knowledge base for the demo shop: shipping, returns and refunds, account help, opening hours,
payment methods. Indexed in-process (small), so the assistant can answer the demo conversations as
soon as ``parley up`` prints its URLs. Idempotent: unchanged articles are not re-indexed."""

from __future__ import annotations

from typing import Any

from parley.knowledge import actions
from parley.knowledge.models import DocumentStatus, KnowledgeSource

SOURCE_NAME = "Demo Shop help centre"

ARTICLES: dict[str, str] = {
    "Shipping and delivery": """# Shipping and delivery

## Delivery times
Orders placed before 2 pm (CET) on a business day leave our warehouse the same day. Standard delivery
takes 2-4 business days within Germany and 3-6 business days to the rest of the EU. Express delivery
arrives the next business day in Germany and costs 9.90 EUR.

## Tracking your order
As soon as your order ships we email you a tracking link from the carrier (DHL or DPD). You can also see
the status of any order, for example order #1001, under My account > Orders, or ask us in the chat with
your order number.

## My order is late
If your parcel has not arrived 2 business days after the estimated delivery date, contact us with your
order number. We check with the carrier and, if the parcel is lost, send a replacement or refund you at no cost.

## Shipping costs
Standard shipping is free for orders over 50 EUR; below that it costs 4.90 EUR.
""",
    "Returns and refunds": """# Returns and refunds

## Return policy
You can return any unused item within 30 days of delivery for a full refund. Start a return under
My account > Orders > Return, print the prepaid label and drop the parcel at any DHL point.

## Damaged or broken items
If an item arrives damaged or broken (for example a cracked mug), tell us within 14 days and send a photo
of the damage. You do not need to send it back: we refund the item in full, including shipping, or send a
replacement, whichever you prefer.

## When will I get my refund?
Refunds are issued to the original payment method within 5 business days after we receive the return
(or after we approve a damage claim). Bank transfers can take another 2-3 days to show on your statement.
""",
    "Account and password": """# Account help

## Resetting your password
Click "Forgot password?" on the sign-in page and enter the email address of your account. We send you a
reset link that is valid for 30 minutes. If the email does not arrive within 5 minutes, check your spam
folder, then ask us to resend it.

## Changing your email address
Go to My account > Settings > Email, enter the new address and confirm it from the link we send there.
""",
    "Opening hours and contact": """# Contact us

## Opening hours
Our customer service team is available Monday to Friday from 8:00 to 18:00 and Saturday from 9:00 to
14:00 (CET). We are closed on Sundays and public holidays. The chat assistant answers around the clock.

## How to reach us
Chat with us on the website, email support@demo-shop.example or call +49 30 1234567 during opening hours.
""",
    "Payment methods": """# Payment

## Accepted payment methods
We accept Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay, Klarna (pay in 30 days)
and bank transfer (prepayment). Your card is charged when the order ships.

## Invoices
Every order comes with a PDF invoice attached to the shipping confirmation email; you can also
download it under My account > Orders.
""",
}


def seed(tenant: Any) -> None:
    """Create the demo source and index its articles (skipped when already indexed)."""
    source = KnowledgeSource.objects.filter(tenant=tenant, name=SOURCE_NAME).first()
    if source is None:
        source = actions.create_source(
            tenant=tenant, data={"name": SOURCE_NAME, "tags": ["public"], "language": "en"}, sync=False
        )
    for title, text in ARTICLES.items():
        result = actions.add_text_document(source=source, title=title, text=text, enqueue=False)
        if result.changed or result.document.status != DocumentStatus.READY:
            actions.index_document(document_id=result.document.pk)
