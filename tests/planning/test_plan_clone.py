"""Copy into a new draft: the copy is the source, whole. On the demo company the copy routes every
account exactly as its source (the routing engine, the set-based path), its tree, rules, named
lists and slots match, and its grants are the ones a full rebuild gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from planning import demo
from planning.plans.clone import copy_name_suggest, plan_copy, territory_id_map
from routing import services as routing_services
from routing.batch.read import read_facts
from routing.engine import vector
from salesos.models import GeoArea, Industry
from territories.grants import grants_rebuild
from territories.models import RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission
from tests import factories

N = 600


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        had_reference = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
        if demo.demo_data_exists():
            demo.reset_demo_data()
        demo.seed_demo(accounts=N, seed=11, anchor=dt.date(2026, 5, 15))
    yield
    with django_db_blocker.unblock():
        demo.reset_demo_data()
        if not had_reference:
            GeoArea.objects.all()._raw_delete(GeoArea.objects.db)
            Industry.objects.all()._raw_delete(Industry.objects.db)


@pytest.fixture
def copied(seeded, db):
    routing_services._indexes.clear()
    source = TerritoryPlan.active()
    admin = factories.make_user("admin")
    return source, plan_copy(source=source, name=copy_name_suggest(source), by=admin)


def _route(plan: TerritoryPlan, lock_map: dict[int, int] | None = None) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Account -> (primary territory code, overlay codes) as the engine routes it in ``plan``."""
    vplan = vector.for_plan(routing_services.plan_index(plan=plan))
    cols, _ = read_facts(vplan.fields)
    if lock_map is not None:
        cols.locks = np.asarray([lock_map.get(int(x), int(x)) for x in cols.locks], dtype=np.int64)
    routed = vector.route(vplan, cols)
    codes = dict(Territory.objects.filter(plan=plan).values_list("pk", "code"))
    overlays: dict[int, list[str]] = {}
    for row, territory in zip(routed.overlay_rows.tolist(), routed.overlay_territory.tolist(), strict=True):
        overlays.setdefault(int(cols.ids[row]), []).append(codes[territory])
    return {int(a): (codes.get(int(w), ""), tuple(sorted(overlays.get(int(a), []))))
            for a, w in zip(cols.ids.tolist(), routed.winner.tolist(), strict=True)}


def test_the_copy_routes_every_demo_account_as_its_source(copied):
    source, copy = copied
    assert copy.status == TerritoryPlan.Status.DRAFT and copy.source_plan == source
    expected = _route(source)
    assert len(expected) == N and sum(1 for code, _ in expected.values() if code) > N // 2
    # Locks name the source's territories; activation moves them to the copy's (same code).
    assert _route(copy, territory_id_map(source=source, target=copy)) == expected


def test_the_copy_keeps_tree_rules_lists_and_current_slots(copied):
    source, copy = copied

    def shape(plan):
        rows = Territory.objects.filter(plan=plan).values_list(
            "code", "parent__code", "name", "type", "status", "priority", "rule", "is_overlay", "credit_percent")
        named = Territory.named_accounts.through.objects.filter(territory__plan=plan).values_list(
            "territory__code", "account_id")
        slots = RepAssignment.objects.filter(territory__plan=plan, end_date__isnull=True).values_list(
            "territory__code", "user_id", "slot", "split_percent", "start_date")
        return sorted(rows, key=str), sorted(named), sorted(slots)

    assert shape(copy) == shape(source)
    assert Territory.objects.filter(plan=copy).count() == Territory.objects.filter(plan=source).count() > 20


def test_copied_grants_are_the_grants_a_rebuild_gives(copied):
    _, copy = copied

    def grants():
        return sorted(TerritoryUserObjectPermission.objects.filter(content_object__plan=copy)
                      .values_list("user_id", "content_object__code", "permission__codename"))

    made = grants()
    assert made
    grants_rebuild(plan=copy)
    assert grants() == made


def test_a_copy_needs_a_free_name(copied):
    source, copy = copied
    with pytest.raises(ValidationError, match="already a plan named"):
        plan_copy(source=source, name=copy.name.upper(), by=None)
    with pytest.raises(ValidationError, match="needs a name"):
        plan_copy(source=source, name="  ", by=None)
    assert TerritoryPlan.objects.count() == 2
    assert copy_name_suggest(source) == f"{source.name} (draft 2)"
