from django.contrib import admin

from parley.customers.models import Customer, CustomerIdentity, CustomerNote


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "tenant", "created_at"]
    search_fields = ["name", "email", "phone"]


@admin.register(CustomerIdentity)
class CustomerIdentityAdmin(admin.ModelAdmin):
    list_display = ["channel_type", "external_id", "customer", "tenant"]
    search_fields = ["external_id"]


@admin.register(CustomerNote)
class CustomerNoteAdmin(admin.ModelAdmin):
    list_display = ["customer", "author_name", "tenant", "created_at"]
    search_fields = ["text"]
