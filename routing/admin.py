from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from routing.models import IntegrationToken, Notification
from routing.services import account_save, lead_save, routable_snapshot
from salesos.admin import IdCheckedAdmin
from salesos.models import Account, Lead
from territories.models import AccountTerritory
from territories.placement import placement


@admin.register(AccountTerritory)
class AccountTerritoryAdmin(IdCheckedAdmin):
    """Ownership rows are view-only: they are written by the routing services alone (effective-
    dated, one current primary per account and plan, the decision they record), so the admin
    neither adds, changes nor deletes one. Deleting an account in the admin still removes its rows
    through the cascade: Django asks this admin for delete permission on each of them, so it is
    granted, while the rows' own delete page and bulk delete action are refused."""

    list_display = ["account", "territory", "is_primary", "credit_percent", "source", "valid_from", "valid_to"]
    list_filter = ["is_primary", "source"]
    # The decision is shared by many rows (and there are many decisions): an id box, not a list.
    raw_id_fields = ["account", "territory", "plan", "decision"]
    list_select_related = ["account", "territory"]
    show_full_result_count = False
    readonly_fields = ["change_on_page"]

    def get_fields(self, request, obj=None):
        return ["change_on_page", *(f for f in super().get_fields(request, obj) if f != "change_on_page")]

    @admin.display(description="Change")
    def change_on_page(self, obj: AccountTerritory) -> str:
        return format_html(
            'Routing writes these rows. <a href="{}">Why {} sits here</a>; to move it, edit or lock it on '
            '<a href="{}">its page</a>, or route it from the unassigned queue.',
            reverse("routing:account_explain", args=[obj.account_id]),
            obj.account,
            reverse("accounts:detail", args=[obj.account_id]),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        raise PermissionDenied

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # View-only, and no "Delete" link to the refused delete page.
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "show_delete": False})


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(IdCheckedAdmin):
    """API keys for other systems. The key is shown once, in the message after the token is
    added; only its hash is stored. Revoking keeps the row (and its last use) for the record."""

    list_display = ["name", "prefix", "created_at", "last_used_at", "status", "can_create_leads"]
    list_filter = [TokenStatusFilter, "can_create_leads"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "can_create_leads"]
        return ["name", "can_create_leads", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="Status", ordering="revoked_at")
    def status(self, obj: IntegrationToken) -> str:
        if obj.revoked_at is None:
            return format_html('<span style="color:#146c43">{}</span>', "Active")
        return format_html('<span style="color:#b02a37">Revoked {}</span>', obj.revoked_at.strftime("%Y-%m-%d"))

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key = obj.issue_key()
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        messages.success(
            request,
            format_html(
                "API key for “{}”: <code class=\"api-key\">{}</code> Copy it now: it is not stored and will "
                "not be shown again. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.",
                obj.name,
                key,
            ),
        )

    @admin.action(description="Revoke selected tokens (their keys stop working at once)")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token{'s' if count != 1 else ''}.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(IdCheckedAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


# Accounts and leads are core records, but saving one routes it: their admin lives with routing.
@admin.register(Account)
class AccountAdmin(IdCheckedAdmin):
    list_display = [
        "name",
        "country",
        "state",
        "metro",
        "industry_code",
        "employees",
        "annual_revenue",
    ]
    list_filter = ["region", "country", "status"]
    search_fields = ["name", "domain", "postal_code"]
    raw_id_fields = ["industry"]  # a lock is set on the routing page (account_lock), which re-routes
    # Where the account sits is its current primary routing row, its owner that territory's owner
    # today (territories.placement): shown on the change page, never edited here.
    readonly_fields = ["industry_code", "current_territory", "current_owner", "created_at", "updated_at"]
    show_full_result_count = False

    @admin.display(description="Territory")
    def current_territory(self, obj: Account) -> str:
        territory = placement(obj).territory if obj.pk else None
        return str(territory) if territory is not None else "—"

    @admin.display(description="Owner")
    def current_owner(self, obj: Account) -> str:
        owner = placement(obj).owner if obj.pk else None
        return (owner.get_full_name() or owner.username) if owner is not None else "—"

    def save_model(self, request, obj, form, change):
        # Through the routing service, so a new or moved account lands in its territory at once.
        before = routable_snapshot(Account.objects.get(pk=obj.pk)) if change else None
        account_save(account=obj, before=before)


@admin.register(Lead)
class LeadAdmin(IdCheckedAdmin):
    list_display = ["company", "first_name", "last_name", "email", "status", "country", "territory", "owner"]
    list_filter = ["status", "country"]
    search_fields = ["company", "email", "last_name"]
    raw_id_fields = ["industry", "owner", "territory", "account"]
    readonly_fields = ["industry_code", "territory", "routing_trace"]
    list_select_related = ["territory", "owner"]

    def save_model(self, request, obj, form, change):
        lead_save(lead=obj)
