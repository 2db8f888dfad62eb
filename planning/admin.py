from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from planning.models import FiscalPeriod, FiscalYear, Quota
from salesos.admin import IdCheckedAdmin


class FiscalPeriodInline(admin.TabularInline):
    model = FiscalPeriod
    extra = 0


@admin.register(FiscalYear)
class FiscalYearAdmin(IdCheckedAdmin):
    list_display = ["name", "start_date", "end_date"]
    inlines = [FiscalPeriodInline]


@admin.register(Quota)
class QuotaAdmin(IdCheckedAdmin, SimpleHistoryAdmin):
    list_display = ["territory", "period", "user", "amount", "ramp_factor"]
    list_filter = ["period"]
    raw_id_fields = ["territory", "user"]
