"""Set-based routing (``routing.engine.vector``) agrees with ``resolve`` record by record."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine import PlanIndex, PlanSpec, TerritorySpec, decide_matched, resolve
from routing.engine.vector import SOURCES, Columns, VectorPlan, route

from .strategies import plans, records


def routed_by_record(compiled: PlanIndex, batch: list[dict]) -> list[tuple]:
    vplan = VectorPlan(compiled)
    cols = Columns.from_records(batch)
    out = route(vplan, cols)
    overlays: dict[int, set] = {i: set() for i in range(len(batch))}
    for row, territory, credit in zip(out.overlay_rows.tolist(), out.overlay_territory.tolist(),
                                      out.overlay_credit.tolist(), strict=True):
        overlays[row].add((territory, credit))
    found = []
    for i in range(len(batch)):
        key = int(out.key[i])
        found.append((
            int(out.winner[i]) or None,
            SOURCES[int(out.source[i])],
            bool(out.conflict[i]),
            overlays[i],
            out.matched[key],
            int(out.lock[key]) or None,
        ))
    return found


def expected(compiled: PlanIndex, record: dict) -> tuple:
    decision = resolve(compiled, record)
    return (decision.territory_id, decision.source, decision.conflict, set(decision.overlays), decision.matched,
            record.get("locked_territory_id"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans(), data=st.data())
def test_vector_routing_equals_resolve(plan, data):
    compiled = PlanIndex.build(plan)
    lock_ids = tuple(t.id for t in plan.territories) + (999,)
    batch = [data.draw(records(lock_ids=lock_ids)) for _ in range(data.draw(st.integers(1, 8)))]
    for i, record in enumerate(batch):  # ids are unique in a table; 1-5 are the named-list ids
        record["id"] = i + 1
    got = routed_by_record(compiled, batch)
    for record, mine in zip(batch, got, strict=True):
        assert mine == expected(compiled, record), record
        # What is stored (the matched set and the lock) gives the same decision back.
        again = decide_matched(compiled, mine[4], mine[5])
        assert (again.territory_id, again.conflict) == (mine[0], mine[2])


def test_guards_narrow_large_parents_without_changing_the_result():
    # A root over every record, children guarded by state: the group index path.
    territories = [TerritorySpec(id=1, code="ROOT", rule={"field": "country", "op": "eq", "value": "US"})]
    states = [f"US-S{i}" for i in range(20)]
    for i, state in enumerate(states):
        territories.append(TerritorySpec(id=10 + i, code=f"S{i:02d}", parent_id=1,
                                         rule={"field": "state", "op": "in", "value": [state]}))
        territories.append(TerritorySpec(id=100 + i, code=f"P{i:02d}", parent_id=10 + i, priority=1,
                                         rule={"field": "postal_code", "op": "prefix", "value": [f"{i % 10}"]}))
    compiled = PlanIndex.build(PlanSpec(version=1, territories=tuple(territories)))
    batch = [{"id": n + 1, "country": "us" if n % 7 else "CA", "state": states[n % 20].lower(),
              "postal_code": f"{n % 13}{n % 100:03d}"} for n in range(2000)]
    got = routed_by_record(compiled, batch)
    assert [g[:3] for g in got] == [expected(compiled, r)[:3] for r in batch]
    assert sum(1 for g in got if g[0] is not None and g[0] >= 100) > 100  # the postal children win
