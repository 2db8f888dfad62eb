from django.contrib import admin
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from territories.models import RepAssignment, Territory, TerritoryPlan


@admin.register(TerritoryPlan)
class TerritoryPlanAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "status", "fiscal_year", "effective_date", "version"]
    list_filter = ["status", "kind"]
    search_fields = ["name"]
    raw_id_fields = ["source_plan", "created_by"]


class RepAssignmentInline(admin.TabularInline):
    model = RepAssignment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Territory)
class TerritoryAdmin(GuardedModelAdmin, SimpleHistoryAdmin):
    list_display = ["code", "name", "plan", "type", "priority", "is_overlay", "status", "parent"]
    list_filter = ["plan", "type", "status", "is_overlay"]
    search_fields = ["code", "name"]
    raw_id_fields = ["plan", "parent", "named_accounts"]
    inlines = [RepAssignmentInline]
    list_select_related = ["plan", "parent"]


@admin.register(RepAssignment)
class RepAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["territory", "user", "slot", "split_percent", "start_date", "end_date"]
    list_filter = ["slot"]
    raw_id_fields = ["territory", "user"]
    list_select_related = ["territory", "user"]
