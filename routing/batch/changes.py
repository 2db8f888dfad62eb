"""The diff: the decisions against the current rows, as arrays, giving the rows to close and the
rows to insert (``RowChanges``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from routing.batch.read import ID_CHUNK_SIZE, MANUAL_CODE, SOURCE_CODE, CurrentRows
from routing.engine import vector
from territories.models import RoutingDecision


def decision_keys(routed: vector.Routed, decision_ids: np.ndarray) -> np.ndarray:
    """Per stored decision id, the routing key that gives the same decision (the same matched
    territories and lock), -1 where none does: a row whose decision no longer holds is rewritten
    even when its territory stays."""
    out = np.full(len(decision_ids), -1, dtype=np.int64)
    unique, inverse = np.unique(decision_ids, return_inverse=True)
    wanted = [int(d) for d in unique.tolist() if d]
    if not wanted:
        return out
    found: dict[int, int] = {}
    locks = routed.lock.tolist()
    if connection.vendor == "postgresql":
        # Compared as jsonb's own text ("[3, 17]", ids ascending as both writers store them): no
        # JSON decoding of tens of thousands of decisions.
        pairs = enumerate(zip(routed.matched, locks, strict=True))
        text_of = {(f"[{', '.join(map(str, m))}]", lock): k for k, (m, lock) in pairs}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, matched::text, COALESCE(locked_territory_id, 0) FROM {RoutingDecision._meta.db_table} "  # noqa: S608
                "WHERE id = ANY(%s)",
                [wanted],
            )
            found = {pk: text_of.get((matched, lock), -1) for pk, matched, lock in cursor.fetchall()}
    else:
        key_of = {(m, lock): k for k, (m, lock) in enumerate(zip(routed.matched, locks, strict=True))}
        for start in range(0, len(wanted), ID_CHUNK_SIZE):
            part = RoutingDecision.objects.filter(pk__in=wanted[start : start + ID_CHUNK_SIZE])
            for pk, matched, lock in part.values_list("pk", "matched", "locked_territory_id"):
                found[pk] = key_of.get((tuple(sorted(int(t) for t in matched or ())), int(lock or 0)), -1)
    keys = np.asarray([found.get(int(d), -1) for d in unique.tolist()], dtype=np.int64)
    return keys[inverse.reshape(-1)]


# --- the diff --------------------------------------------------------------------------------


@dataclass
class RowChanges:
    """What to write: rows to close (their pks) and rows to insert, as arrays."""

    close: np.ndarray
    close_row: np.ndarray  # the account position of each closed row
    insert_row: np.ndarray  # account position
    insert_territory: np.ndarray
    insert_primary: np.ndarray
    insert_credit: np.ndarray
    insert_source: np.ndarray  # SOURCE_NAMES code
    insert_key: np.ndarray  # decision key (primary rows), -1 for overlays
    old_primary: np.ndarray  # per account: territory before (0 none)
    new_primary: np.ndarray  # per account: territory after (0 none)


def diff(routed: vector.Routed, current: CurrentRows, n: int, current_key: np.ndarray | None = None) -> RowChanges:
    """``services.account_route``'s persistence rules, for every account at once: a current row
    that the decision does not want is closed, a wanted row that is not current is inserted; a
    manual primary row stays while the rules place the account nowhere. A primary row stays only
    while its whole decision holds (territory, source, the matched set and lock, the conflict
    flag): ``current_key`` is each current row's decision as a routing key (``decision_keys``)."""
    cur_terr = np.zeros(n, dtype=np.int64)
    cur_src = np.zeros(n, dtype=np.int64)
    cur_credit = np.zeros(n, dtype=np.int64)
    cur_pk = np.zeros(n, dtype=np.int64)
    cur_key = np.full(n, -1, dtype=np.int64)
    cur_conflict = np.zeros(n, dtype=bool)
    p = current.primary
    cur_terr[current.row[p]] = current.territory[p]
    cur_src[current.row[p]] = current.source[p]
    cur_credit[current.row[p]] = current.credit[p]
    cur_pk[current.row[p]] = current.pk[p]
    cur_conflict[current.row[p]] = current.conflict[p]
    if current_key is None:
        current_key = decision_keys(routed, current.decision)
    cur_key[current.row[p]] = current_key[p]

    want = routed.winner
    want_src = routed.source.astype(np.int64)
    kept_manual = (want == 0) & (cur_terr != 0) & (cur_src == MANUAL_CODE)
    same_decision = (cur_key == routed.key) & (cur_conflict == routed.conflict)
    same = (cur_terr == want) & ((want == 0) | ((cur_src == want_src) & (cur_credit == 100) & same_decision))
    close_primary = (cur_terr != 0) & ~same & ~kept_manual
    insert_primary = (want != 0) & ~same

    # Overlay rows as one integer each: (account position, territory, credit).
    o = ~p
    territories, dense = np.unique(
        np.concatenate([current.territory[o], routed.overlay_territory]), return_inverse=True
    )
    dense = dense.reshape(-1)
    width = max(1, len(territories))

    def keys(rows: np.ndarray, at: np.ndarray, credits: np.ndarray) -> np.ndarray:
        return (rows * width + at) * 128 + np.clip(credits, 0, 127)

    split = int(o.sum())
    cur_o = keys(current.row[o], dense[:split], current.credit[o])
    want_o = keys(routed.overlay_rows, dense[split:], routed.overlay_credit)
    close_o = ~np.isin(cur_o, want_o) if len(cur_o) else np.zeros(0, dtype=bool)
    insert_o = ~np.isin(want_o, cur_o) if len(want_o) else np.zeros(0, dtype=bool)

    close = np.concatenate([cur_pk[close_primary], current.pk[o][close_o]])
    close_row = np.concatenate([np.flatnonzero(close_primary), current.row[o][close_o]])
    primary_rows = np.flatnonzero(insert_primary)
    overlay_at = np.flatnonzero(insert_o)
    new_primary = np.where(kept_manual, cur_terr, want)
    return RowChanges(
        close=close,
        close_row=close_row,
        insert_row=np.concatenate([primary_rows, routed.overlay_rows[overlay_at]]),
        insert_territory=np.concatenate([want[primary_rows], routed.overlay_territory[overlay_at]]),
        insert_primary=np.concatenate([np.ones(len(primary_rows), bool), np.zeros(len(overlay_at), bool)]),
        insert_credit=np.concatenate([np.full(len(primary_rows), 100), routed.overlay_credit[overlay_at]]),
        insert_source=np.concatenate([want_src[primary_rows], np.full(len(overlay_at), SOURCE_CODE["rule"])]),
        insert_key=np.concatenate([routed.key[primary_rows], np.full(len(overlay_at), -1)]),
        old_primary=cur_terr,
        new_primary=new_primary,
    )
