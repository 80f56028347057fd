from django.contrib import admin

from parley.assistants.models import Assistant

admin.site.register(Assistant)
