"""Create, edit and delete territories, and the HTMX endpoints of the rule builder.

Who may: admins and directors create and delete (directors where their object permissions say
so); whoever holds ``change_territory`` on a territory edits it (managers: their part of the
tree). Only admins move territories in the hierarchy. Anything else answers 404, like a missing
territory.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesos.form_fields import allow_form_fields
from salesos.http import AuthenticatedHttpRequest, parse_id
from salesos.models import SalesProfile
from salesos.roles import role_of
from territories import editing, hooks, services
from territories.access import (
    accounts_visible_to,
    territory_get_for_user,
    territory_has_perm,
)
from territories.builder import codec, pickers
from territories.builder.preview import preview_for_post
from territories.forms import TerritoryForm
from territories.models import Territory, TerritoryPlan
from territories.views_assign import refused_retired

Role = SalesProfile.Role
BUILDER = "territories/rule_builder.html"


# --- permissions -------------------------------------------------------------------------------


def can_create(user: Any) -> bool:
    """Admins anywhere; directors under a territory they lead (checked on save)."""
    return role_of(user) in (Role.ADMIN, Role.DIRECTOR)


def can_restructure(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def _territory_for(request: HttpRequest, pk: int, perm: str) -> Territory:
    return territory_get_for_user(user=request.user, pk=pk, perm=perm)


def territory_url(territory: Territory) -> str:
    """The territory's page, or its edit page while the detail page is not installed."""
    try:
        return reverse("territories:detail", args=[territory.pk])
    except NoReverseMatch:
        return reverse("territories:edit", args=[territory.pk])


# --- pages -------------------------------------------------------------------------------------


def _page_context(*, request: HttpRequest, form: TerritoryForm, tree: codec.Node, plan: TerritoryPlan,
                  territory: Territory | None, named: list[int], problems: int = 0) -> dict[str, Any]:
    return {
        **editing.named_context(request.user, territory, named),
        "form": form,
        "tree": tree,
        "plan": plan,
        "territory": territory,
        "field_groups": codec.field_groups(),
        "problems": problems,
        "can_restructure": can_restructure(request.user) or territory is None,
        "can_delete": territory is not None
        and territory_has_perm(user=request.user, territory=territory, perm="delete_territory"),
        "types": Territory.Type,
    }


def _save(request: AuthenticatedHttpRequest, *, plan: TerritoryPlan, territory: Territory | None) -> HttpResponse:
    form = TerritoryForm(request.POST, plan=plan, territory=territory, with_reps=territory is None)
    if territory is not None and not can_restructure(request.user):
        form.fields["parent"].disabled = True
    parsed = codec.parse_rule(request.POST)
    named = codec.named_ids_from_post(request.POST)
    action = request.POST.get("action", "")
    named_error = codec.named_id_error(request.POST)
    if named_error:
        form.is_valid()  # add_error needs the form cleaned first
        form.add_error(None, named_error)
    if form.is_valid() and territory is None and not can_restructure(request.user):
        parent = form.cleaned_data.get("parent")
        if parent is None or not territory_has_perm(user=request.user, territory=parent, perm="add_territory"):
            form.add_error("parent", "Choose a parent territory inside the part of the tree you lead.")
    catch_all = None
    if form.is_valid() and parsed.rule is not None:
        catch_all = _catch_all_to_confirm(request, plan=plan, territory=territory, form=form, rule=parsed.rule,
                                          action=action, named=named)
        if catch_all is not None:
            form.add_error(None, "This territory has no conditions, so it takes every account no other territory "
                                 "claims. Read what it would take below and confirm to save it.")
    if form.is_valid() and parsed.rule is not None:
        data = form.service_data()
        if form.fields["parent"].disabled:
            data.pop("parent", None)  # a disabled field posts nothing: keep the stored parent
        data["rule"] = parsed.rule
        data["named_account_ids"] = named
        try:
            if territory is None:
                territory = services.territory_create(
                    plan=plan, data=data, by=request.user, activate=action == "activate"
                )
                verb = "created and activated" if territory.status == Territory.Status.ACTIVE else "saved as a draft"
            else:
                if action == "activate":
                    data["status"] = Territory.Status.ACTIVE
                with transaction.atomic():  # a refused save leaves no proposal behind either
                    taken = _rule_edit_taken(request, territory=territory, data=data)
                    if taken is not None and taken.errors:
                        raise ValidationError(list(taken.errors))
                    if taken is not None:
                        data.pop("rule")
                        data["priority"] = territory.priority
                    territory = services.territory_update(territory=territory, data=data, by=request.user,
                                                          version=form.cleaned_data.get("version"))
                if taken is not None:
                    messages.info(request, taken.message)
                    return redirect(taken.url)
                verb = "saved"
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for key, errors in exc.error_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            note = ""
            if plan.status == TerritoryPlan.Status.ACTIVE and territory.status == Territory.Status.ACTIVE:
                note = " Its accounts are being re-routed."
            messages.success(request, f"{territory.code} {territory.name} {verb}.{note}")
            return redirect(territory_url(territory))
    context = _page_context(request=request, form=form, tree=parsed.tree, plan=plan, territory=territory,
                            named=named, problems=parsed.problem_count)
    context["catch_all"] = catch_all
    return render(request, "territories/form.html", context, status=422)


def _catch_all_to_confirm(request: AuthenticatedHttpRequest, *, plan: TerritoryPlan, territory: Territory | None,
                          form: TerritoryForm, rule: dict, action: str, named: list[int]) -> dict | None:
    """What a save would make an active catch-all (no conditions, not a named list, not an
    overlay) takes, from the preview's dry run, unless the post confirms it or the territory was
    already one. None: nothing to confirm."""
    d = form.cleaned_data
    if rule or d["type"] == Territory.Type.NAMED_ACCOUNT or d["is_overlay"]:
        return None
    was_active = territory is not None and territory.status == Territory.Status.ACTIVE
    if action != "activate" and not was_active:
        return None  # a draft routes nothing
    if (was_active and territory is not None and not territory.rule and territory.type == d["type"]
            and not territory.is_overlay):
        return None
    if request.POST.get("confirm_catch_all") == "yes":
        return None
    parent = territory.parent if territory is not None and form.fields["parent"].disabled else d.get("parent")
    preview = hooks.rule_preview(user=request.user, plan=plan, rule=rule, parent=parent, territory=territory,
                                 territory_type=d["type"], named_ids=named, data=request.POST)
    return preview.get("catch_all") or {"total": None}


@allow_form_fields(codec.MAX_FORM_FIELDS)
@login_required
@require_http_methods(["GET", "POST"])
def territory_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_create(request.user):
        raise Http404("No such page")
    plan = editing.plan_for_new(parse_id(request.POST.get("plan") or request.GET.get("plan") or ""))
    if request.method == "POST":
        return _save(request, plan=plan, territory=None)
    initial: dict[str, Any] = {}
    parent_code = request.GET.get("parent", "")
    if editing.has_code(plan, parent_code):
        initial["parent"] = parent_code
    form = TerritoryForm(initial=initial, plan=plan)
    return render(request, "territories/form.html",
                  _page_context(request=request, form=form, tree=codec.tree_from_rule({}), plan=plan, territory=None,
                                named=[]))


def _rule_edit_taken(request: AuthenticatedHttpRequest, *, territory: Territory,
                     data: dict[str, Any]) -> hooks.RuleEditTaken | None:
    """On the active plan, a rule or priority edit may become a reassignment proposal instead of
    applying at once (``territories.hooks.rule_edit_proposed``; planning decides)."""
    if territory.plan.status != TerritoryPlan.Status.ACTIVE or territory.status != Territory.Status.ACTIVE:
        return None
    if data["rule"] == (territory.rule or {}) and data.get("priority") == territory.priority:
        return None
    return hooks.rule_edit_taken(territory=territory, rule=data["rule"], priority=data.get("priority"),
                                 by=request.user)


@allow_form_fields(codec.MAX_FORM_FIELDS)
@login_required
@require_http_methods(["GET", "POST"])
def territory_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    territory = _territory_for(request, pk, "change_territory")
    if (refused := refused_retired(request, territory)) is not None:
        return refused
    if request.method == "POST":
        return _save(request, plan=territory.plan, territory=territory)
    form = TerritoryForm(
        initial={
            "name": territory.name, "description": territory.description, "type": territory.type,
            "parent": territory.parent.code if territory.parent else "", "code": territory.code,
            "priority": territory.priority, "is_overlay": territory.is_overlay,
            "credit_percent": territory.credit_percent, "lead_assignment": territory.lead_assignment,
            "version": territory.version,
        },
        plan=territory.plan, territory=territory, with_reps=False,
    )
    if not can_restructure(request.user):
        form.fields["parent"].disabled = True
    named = editing.named_account_ids(territory)
    return render(request, "territories/form.html",
                  _page_context(request=request, form=form, tree=codec.tree_from_rule(territory.rule),
                                plan=territory.plan, territory=territory, named=named))


@login_required
@require_http_methods(["GET", "POST"])
def territory_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    territory = _territory_for(request, pk, "delete_territory")
    if (refused := refused_retired(request, territory)) is not None:
        return refused
    choice = request.POST.get("children") or request.GET.get("children") or "up"
    chosen = editing.children_target(territory=territory, choice=choice,
                                     code=request.POST.get("target") or request.GET.get("target") or "")
    target, error = chosen.target, chosen.error
    impact = services.territory_delete_impact(
        territory=territory, reassign_children_to=target, delete_children=choice == "delete"
    )
    if request.method == "POST" and request.POST.get("confirm") == "yes" and not error:
        parent = territory.parent
        result = services.territory_delete(
            territory=territory, by=request.user, reassign_children_to=target, delete_children=choice == "delete"
        )
        where = result["children_to"]
        moved = (f" {result['children_moved']} child territor{'y' if result['children_moved'] == 1 else 'ies'} "
                 f"moved to {where.code if where else 'the top level'}.") if result["children_moved"] else ""
        messages.success(
            request,
            f"{'Retired' if result['retired'] else 'Deleted'} {territory.code} {territory.name} "
            f"({result['territories']} territor"
            f"{'y' if result['territories'] == 1 else 'ies'}).{moved} {result['accounts']} account"
            f"{'' if result['accounts'] == 1 else 's'} will be re-routed by the rules.",
        )
        return redirect(territory_url(parent) if parent is not None and choice != "delete" else
                        reverse("territories:index"))
    return render(request, "territories/delete.html", {
        "territory": territory, "impact": impact, "choice": choice, "target": target, "error": error,
        "subtree_count": chosen.subtree_count,
    }, status=422 if request.method == "POST" and error else 200)


# --- rule builder endpoints --------------------------------------------------------------------


def _builder_user(request: HttpRequest) -> None:
    if role_of(request.user) not in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER):
        raise Http404("No such page")


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = "rb-changed"  # the preview listens and recomputes
    return response


@login_required
@require_GET
def builder_cond(request: HttpRequest) -> HttpResponse:
    """A condition row: a new blank one (``parent`` given, no ``id``), or the row ``id``
    re-rendered after its field or operator changed (operators and value widget follow)."""
    _builder_user(request)
    node_id = request.GET.get("id", "")
    if not node_id:
        node = codec.blank_condition(request.GET.get("parent", ""))
        return render(request, f"{BUILDER}#cond", {"node": node, "field_groups": codec.field_groups(), "focus": True})
    node = codec.node_from_post(request.GET, node_id)
    built_for = request.GET.get(f"n-{node_id}-built", "")
    codec.carry_values(node, built_for=built_for)
    codec.label_chips(node)
    response = render(request, f"{BUILDER}#cond", {"node": node, "field_groups": codec.field_groups(),
                                                   "focus_op": node.field != built_for})
    return _changed(response)


@login_required
@require_GET
def builder_group(request: HttpRequest) -> HttpResponse:
    """A new nested group (any-of by default: nested groups are usually alternatives) holding one
    blank row."""
    _builder_user(request)
    group = codec.Node(id=codec.new_id(), kind="group", parent=request.GET.get("parent", ""), join="any")
    group.children = [codec.blank_condition(group.id)]
    return render(request, f"{BUILDER}#group", {"node": group, "field_groups": codec.field_groups(), "focus": True})


@login_required
@require_GET
def builder_options(request: HttpRequest) -> HttpResponse:
    """Search results for a picker, as ``<option>`` elements for its datalist."""
    _builder_user(request)
    kind = request.GET.get("kind", "")
    # The search text arrives under the input's own name (a chip box, the parent field ...).
    q = next((v for k, v in request.GET.dict().items() if k not in ("kind", "plan")), "")
    parents = None
    if kind == "parent":
        parents = pickers.parent_choices(user=request.user, plan_id=parse_id(request.GET.get("plan", "")))
    options = pickers.picker_options(kind=kind, q=q[:100], parents=parents, accounts=accounts_visible_to(request.user))
    return render(request, f"{BUILDER}#options", {"options": options})


@login_required
@require_GET
def builder_chip(request: HttpRequest) -> HttpResponse:
    """Turns the text of a chip search box into a chip (a code with its name)."""
    _builder_user(request)
    kind = request.GET.get("kind", "")
    name = request.GET.get("name", "")
    q = next((v for k, v in request.GET.dict().items() if k not in ("kind", "name")), "")
    hit = pickers.resolve_chip(kind=kind, q=q[:200], accounts=accounts_visible_to(request.user))
    if hit is None:
        response = render(request, f"{BUILDER}#chip_missing", {"q": q})
        response["HX-Reswap"] = "none"
        return response
    return _changed(render(request, f"{BUILDER}#chip", {"value": hit[0], "label": hit[1], "name": name}))


@allow_form_fields(codec.MAX_FORM_FIELDS)
@login_required
@require_POST
def builder_preview(request: HttpRequest) -> HttpResponse:
    """The live preview: posted with the whole form on every change (debounced)."""
    _builder_user(request)
    parsed = codec.parse_rule(request.POST, include_typed=False, labels=False)
    context = preview_for_post(user=request.user, data=request.POST, parsed=parsed,
                               may_create=can_create(request.user), may_restructure=can_restructure(request.user))
    return render(request, f"{BUILDER}#preview", context)

