"""Built-in tools; importing this package registers them."""

from parley.tools.builtin import customers, handover, knowledge, money, orders, tickets

__all__ = ["customers", "handover", "knowledge", "money", "orders", "tickets"]
