"""Territories in the admin are read-only, with a link to the page that edits them.

A territory's rule, tree, named list, status and rep assignments change only through
``territories.services`` (rule validation, history with who and why, the plan's version stamp, the
re-route of the accounts that may move, the permission grants): an admin form saving the row
directly would skip all of that. Plans keep their admin for their name, description, fiscal year,
kind and effective date; their status (activation) and bookkeeping are read-only there."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from salesos.admin import IdCheckedAdmin
from territories.models import RepAssignment, Territory, TerritoryPlan


class ReadOnlyAdmin:
    """View-only: no add, change or delete (the territory pages do those)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# A plan's lifecycle and bookkeeping: the status moves only through planning's staging and
# activation (one transaction that ends the old plan's rows, starts the new one's and re-routes;
# exactly one plan is active), ``version`` only through ``territories.services.plan_touch`` (the
# compiled-rule stamp), and the rest are records of what happened.
PLAN_SERVICE_FIELDS = ("status", "version", "activated_at", "source_plan", "created_by", "created_at")


class HistoryViewOnly(SimpleHistoryAdmin):
    """The admin history of a read-only model can be looked at, not reverted: simple-history's
    version page saves the old row on POST, asking only for view permission, which would put back
    an old rule or reopen an ended assignment with none of the services' checks. It takes
    ``SimpleHistoryAdmin``'s place last in the bases, so ``IdCheckedAdmin`` still wraps its URLs."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(TerritoryPlan)
class TerritoryPlanAdmin(IdCheckedAdmin, SimpleHistoryAdmin):
    """Name, description, fiscal year, kind and effective date are edited here; the fields in
    ``PLAN_SERVICE_FIELDS`` are shown read-only. A new plan starts as a draft."""

    list_display = ["name", "kind", "status", "fiscal_year", "effective_date", "version"]
    list_filter = ["status", "kind"]
    search_fields = ["name"]
    readonly_fields = ["status_changes", *PLAN_SERVICE_FIELDS]

    def get_fields(self, request, obj=None):
        editable = ["name", "description", "fiscal_year", "kind", "effective_date"]
        return editable if obj is None else ["status_changes", *editable, *PLAN_SERVICE_FIELDS]

    @admin.display(description="Status")
    def status_changes(self, obj: TerritoryPlan) -> str:
        return format_html(
            "{} — a plan’s status changes only through staging and activation in "
            '<a href="{}">planning</a> (the old plan’s rows end and the accounts are re-routed in one '
            'step), never here. Its territories change on the <a href="{}">territory pages</a>.',
            obj.get_status_display(),
            reverse("planning:index"),
            reverse("territories:index") + f"?plan={obj.pk}",
        )

    def save_model(self, request, obj: TerritoryPlan, form, change: bool) -> None:
        # Read-only fields are left out of the form, but simple-history's revert view saves a whole
        # old version of the row (its status included): whatever the view, the admin writes only
        # the fields it edits, and the history row records the stored values of the others.
        if change:
            stored = TerritoryPlan.objects.select_for_update().get(pk=obj.pk)
            for name in PLAN_SERVICE_FIELDS:
                setattr(obj, name, getattr(stored, name))
        else:
            obj.status = TerritoryPlan.Status.DRAFT
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class RepAssignmentInline(ReadOnlyAdmin, admin.TabularInline):
    model = RepAssignment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Territory)
# IdCheckedAdmin first, so its get_urls wraps guardian's and simple-history's URLs too (mypy sees
# guardian's change_form_template override through the reordered bases).
class TerritoryAdmin(ReadOnlyAdmin, IdCheckedAdmin, GuardedModelAdmin, HistoryViewOnly):  # type: ignore[misc]
    list_display = ["code", "name", "plan", "type", "priority", "is_overlay", "status", "parent"]
    list_filter = ["plan", "type", "status", "is_overlay"]
    search_fields = ["code", "name"]
    raw_id_fields = ["plan", "parent", "named_accounts"]
    readonly_fields = ["edit_on_page"]
    inlines = [RepAssignmentInline]
    list_select_related = ["plan", "parent"]

    def get_fields(self, request, obj=None):
        return ["edit_on_page", *(f for f in super().get_fields(request, obj) if f != "edit_on_page")]

    @admin.display(description="Edit")
    def edit_on_page(self, obj: Territory) -> str:
        return format_html(
            'Territories change on their own pages: <a href="{}">edit {}</a> (rule, named accounts, tree), '
            '<a href="{}">rep assignments</a>.',
            reverse("territories:edit", args=[obj.pk]),
            obj.code,
            reverse("territories:assignments", args=[obj.pk]),
        )


@admin.register(RepAssignment)
class RepAssignmentAdmin(ReadOnlyAdmin, IdCheckedAdmin, HistoryViewOnly):
    list_display = ["territory", "user", "slot", "split_percent", "start_date", "end_date"]
    list_filter = ["slot"]
    raw_id_fields = ["territory", "user"]
    readonly_fields = ["edit_on_page"]
    list_select_related = ["territory", "user"]

    def get_fields(self, request, obj=None):
        return ["edit_on_page", *(f for f in super().get_fields(request, obj) if f != "edit_on_page")]

    @admin.display(description="Edit")
    def edit_on_page(self, obj: RepAssignment) -> str:
        return format_html(
            'Assignments start and end on the territory\u2019s <a href="{}">assignments page</a>.',
            reverse("territories:assignments", args=[obj.territory_id]),
        )
