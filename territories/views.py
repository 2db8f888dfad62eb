"""Territory pages: the tree (with HTMX expansion), the filtered flat list, the territory page and
moving a subtree. Create/edit/delete and the rule builder are in ``views_edit``, rep assignment in
``views_assign``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from salesos.http import AuthenticatedHttpRequest, HtmxHttpRequest
from salesos.roles import bulk_assigns, is_admin
from territories.access import territory_get_for_user, territory_perms
from territories.detail import (
    AccountFilters,
    assign_context,
    move_candidates,
    territory_accounts_page,
    territory_place,
    territory_top_deals,
)
from territories.history import territory_history
from territories.models import Territory
from territories.rules_text import territory_rule_text
from territories.services import territory_move
from territories.tree import (
    LIST_PAGE_SIZE,
    TreeFilters,
    children_rows,
    plan_choose,
    plan_tree,
    plans_for,
    territory_list_page,
    tree_level_rows,
)


def _plan_query(plan, *, is_active: bool, retired: bool = False) -> str:
    """What tree links carry over: the plan when it is not the active one, and "Show retired"."""
    return urlencode({**({} if is_active else {"plan": plan.pk}), **({"retired": "1"} if retired else {})})


@require_GET
@login_required
def index(request: HtmxHttpRequest) -> HttpResponse:
    """The tree of the chosen plan (the active one by default). Search or any filter switches to
    a flat list of matches with their path; ``node`` shows one territory's children (the
    no-JavaScript way to expand)."""
    plans = plans_for(request.user)
    plan = plan_choose(plans, request.GET.get("plan"))
    if plan is None and request.GET.get("plan"):
        raise Http404("No such plan")
    filters = TreeFilters.from_query(request.GET)
    context: dict = {"plan": plan, "filters": filters, "plans": plans, "types": Territory.Type}
    if plan is None:
        return render(request, "territories/index.html", context)
    tree = plan_tree(user=request.user, plan=plan, show_retired=filters.retired)
    plan_q = _plan_query(plan, is_active=plan.status == plan.Status.ACTIVE, retired=filters.retired)
    context.update(tree=tree, plan_q=plan_q, total=len(tree.visible), can_move=is_admin(request.user))
    # Bulk CSV assignment and "Fill vacancies" work on the active plan, for the roles that bulk assign.
    context["may_bulk"] = plan.status == plan.Status.ACTIVE and bulk_assigns(request.user)
    context["levels"] = range(1, 1 + max((tree.nodes[pk].level for pk in tree.visible), default=0))
    context["reps"] = sorted(tree.reps.items(), key=lambda item: item[1].casefold())
    if filters.active:
        context["list_page"] = territory_list_page(tree, filters, page=request.GET.get("page"))
        list_params = {k: v for k, v in request.GET.items() if k != "page" and v}
        context["list_q"] = urlencode(list_params)
        template = "territories/index.html#list" if request.htmx else "territories/index.html"
        return render(request, template, context)
    node = None
    node_id = request.GET.get("node")
    if node_id:
        try:
            node = tree.nodes.get(int(node_id))
        except ValueError:
            node = None
        if node is None or node.pk not in tree.visible:
            raise Http404("No such territory")
        ids = tree.children_of(node.pk)
        context["breadcrumb"] = tree.visible_path_of(node.pk)
    else:
        ids = tree.tops()
    page = Paginator(ids, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(node=node, page=page, rows=tree_level_rows(tree, list(page)))
    extra: dict = {"plan": plan.pk} if plan.status != plan.Status.ACTIVE else {}
    if filters.retired:
        extra["retired"] = "1"
    if node is not None:
        extra["node"] = node.pk
    context["page_q"] = urlencode(extra)
    template = "territories/index.html#tree" if request.htmx else "territories/index.html"
    return render(request, template, context)


@require_GET
@login_required
def children(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The visible children of one territory as tree rows (HTMX expands a node with it). Without
    htmx it sends the browser to the tree page focused on that territory."""
    territory = territory_get_for_user(user=request.user, pk=pk)
    plan = territory.plan
    filters = TreeFilters.from_query(request.GET)
    plan_q = _plan_query(plan, is_active=plan.status == plan.Status.ACTIVE, retired=filters.retired)
    if not request.htmx:
        query = urlencode({**({"plan": plan.pk} if plan.status != plan.Status.ACTIVE else {}),
                           **({"retired": "1"} if filters.retired else {}), "node": pk})
        return redirect(f"{reverse('territories:index')}?{query}")
    try:
        indent = max(0, min(int(request.GET.get("indent", "1")), 30))
    except ValueError:
        indent = 1
    tree = plan_tree(user=request.user, plan=plan, show_retired=filters.retired)
    context = {"rows": children_rows(tree, pk, indent=indent), "plan": plan, "plan_q": plan_q, "filters": filters}
    return render(request, "territories/index.html#rows", context)


@require_GET
@login_required
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    territory = territory_get_for_user(user=request.user, pk=pk)
    filters = AccountFilters.from_query(request.GET)
    if request.htmx and request.GET.get("part") == "accounts":
        accounts, rows, states = territory_accounts_page(
            territory=territory, filters=filters, page=request.GET.get("page")
        )
        context = {"territory": territory, "accounts": accounts, "account_rows": rows, "filters": filters,
                   "states": states}
        return render(request, "territories/detail.html#accounts", context)
    if request.htmx and request.GET.get("part") == "move":
        if not is_admin(request.user):
            raise Http404("No such territory")
        move_q = request.GET.get("move_q", "").strip()[:60]
        context = {"territory": territory, "move_q": move_q}
        context["candidates"] = move_candidates(territory=territory, q=move_q)
        return render(request, "territories/detail.html#move-candidates", context)
    return render(request, "territories/detail.html", _detail_context(request, territory))


def _detail_context(request: HttpRequest, territory: Territory, **extra) -> dict:
    filters = AccountFilters.from_query(request.GET)
    accounts, account_rows, states = territory_accounts_page(
        territory=territory, filters=filters, page=request.GET.get("page")
    )
    place = territory_place(user=request.user, territory=territory)
    plan = territory.plan
    admin = is_admin(request.user)
    move_q = request.GET.get("move_q", "").strip()[:60] if admin else ""
    perms = territory_perms(user=request.user, territory=territory)
    context = {
        **assign_context(user=request.user, territory=territory, perms=perms),
        "territory": territory,
        "node": place.node,
        "plan": plan,
        "plan_q": _plan_query(plan, is_active=plan.status == plan.Status.ACTIVE),
        "rule_text": territory_rule_text(rule=territory.rule, territory_type=territory.type,
                                         named_count=territory.named_accounts.count()
                                         if territory.type == Territory.Type.NAMED_ACCOUNT else 0),
        "ancestors": place.ancestors,
        "children": place.children,
        "hidden_children": place.hidden_children,
        "accounts": accounts,
        "account_rows": account_rows,
        "states": states,
        "filters": filters,
        "deals": territory_top_deals(territory),
        "history": territory_history(territory, territory_names=place.names),
        "territory_perms": perms,
        "can_move": admin and not territory.is_retired,
        "move_q": move_q,
        "candidates": move_candidates(territory=territory, q=move_q) if move_q else [],
        "move_error": "",
        "move_code": "",
    }
    context.update(extra)
    return context


@require_POST
@login_required
def move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Move a territory and its subtree under another parent, given by code (blank: to the top
    level). Admins only (hierarchy restructuring); a loop or an unknown code re-shows the page
    with the error and changes nothing."""
    if not is_admin(request.user):
        raise Http404("No such territory")
    territory = territory_get_for_user(user=request.user, pk=pk, perm="change_territory")
    code = request.POST.get("parent_code", "").strip()[:40]
    new_parent = None
    error = ""
    if code:
        new_parent = Territory.objects.filter(plan_id=territory.plan_id, code__iexact=code).first()
        if new_parent is None:
            error = f"No territory with code {code} in {territory.plan}."
    if not error:
        try:
            territory_move(territory=territory, new_parent=new_parent, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            where = f"under {new_parent.code}" if new_parent else "to the top level"
            messages.success(request, f"Moved {territory.code} {where}.")
            return redirect("territories:detail", pk=territory.pk)
    territory.refresh_from_db()
    context = _detail_context(request, territory, move_error=error, move_code=code)
    return render(request, "territories/detail.html", context, status=400)
