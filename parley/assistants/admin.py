from django.contrib import admin

from parley.assistants.models import Assistant, AssistantVersion

admin.site.register(Assistant)
admin.site.register(AssistantVersion)
