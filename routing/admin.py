from django.contrib import admin

from routing.models import AccountTerritory


@admin.register(AccountTerritory)
class AccountTerritoryAdmin(admin.ModelAdmin):
    list_display = ["account", "territory", "is_primary", "credit_percent", "source", "valid_from", "valid_to"]
    list_filter = ["is_primary", "source"]
    raw_id_fields = ["account", "territory", "plan"]
    list_select_related = ["account", "territory"]
    show_full_result_count = False
