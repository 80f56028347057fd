from django.contrib import admin

from parley.commerce.models import Order, OrderItem, PaymentIntent, Transaction


class OrderItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderItem
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["number", "tenant", "customer", "status", "total", "refunded_amount", "currency", "placed_at"]
    list_filter = ["status", "tenant"]
    inlines = [OrderItemInline]


admin.site.register(PaymentIntent)
admin.site.register(Transaction)
