from django.contrib import admin

from parley.connectors.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "tenant", "enabled", "key"]
    list_filter = ["type", "enabled"]
    exclude = ["credentials"]
