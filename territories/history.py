"""A territory's change history: its own fields and its rep assignments, from the historical
records, as the changes each record makes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from territories.models import RepAssignment, Territory
from territories.rules_text import rule_to_text
from territories.selectors import display_name

HISTORY_LIMIT = 200  # historical records read per model; the page lists the changes they make

TERRITORY_HISTORY_FIELDS = (
    "code",
    "name",
    "description",
    "type",
    "status",
    "priority",
    "rule",
    "is_overlay",
    "credit_percent",
    "lead_assignment",
    "parent_id",
)
ASSIGNMENT_HISTORY_FIELDS = ("user_id", "slot", "split_percent", "start_date", "end_date")


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    what: str  # "Territory created", "Primary owner assignment changed", ...
    reason: str
    changes: list[Change]


def _history_value(
    field: str, value, *, names: dict[int, str], territories: dict[int, str], choices: dict | None = None
) -> str:
    if value is None or value == "":
        return "—"
    if field == "rule":
        try:
            return rule_to_text(value)
        except Exception:  # an old rule the current wording cannot read still shows its raw form
            return str(value)
    if field == "parent_id":
        return territories.get(value, f"#{value}")
    if field == "user_id":
        return names.get(value, f"#{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if choices:
        return str(choices.get(value, value))
    return str(value)


def _label(model, field: str) -> str:
    name = field[:-3] if field.endswith("_id") else field
    return str(model._meta.get_field(name).verbose_name).capitalize()


def territory_history(territory: Territory, *, territory_names: dict[int, str] | None = None) -> list[HistoryEntry]:
    """Who changed what, when: consecutive historical records of the territory and of its rep
    assignments compared field by field, newest first (two queries, plus one for unknown
    parents)."""
    records = list(
        Territory.history.filter(id=territory.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")[:HISTORY_LIMIT]
    )
    assignment_records = list(
        RepAssignment.history.filter(territory_id=territory.pk)
        .select_related("history_user", "user")
        .order_by("history_date", "history_id")[:HISTORY_LIMIT]
    )
    names = {
        r.user_id: display_name(r.user.first_name, r.user.last_name, r.user.username)
        for r in assignment_records
        if r.user is not None
    }
    territories = dict(territory_names or {})
    unknown = {r.parent_id for r in records if r.parent_id and r.parent_id not in territories}
    if unknown:
        territories.update(
            (pk, f"{code} {name}")
            for pk, code, name in Territory.objects.filter(pk__in=unknown).values_list("pk", "code", "name")
        )

    def who(record) -> str:
        user = record.history_user
        return display_name(user.first_name, user.last_name, user.username) if user else "System"

    entries: list[HistoryEntry] = []

    def diff(model, fields, series, title) -> None:
        previous: dict[int, object] = {}
        labels = {f: dict(model._meta.get_field(f.removesuffix("_id")).flatchoices) for f in fields}

        def show(f: str, value) -> str:
            return _history_value(f, value, names=names, territories=territories, choices=labels[f])

        for record in series:
            before = previous.get(record.id)
            label = title(record)
            if record.history_type == "+" or before is None:
                changes = [
                    Change(_label(model, f), "", show(f, getattr(record, f)))
                    for f in fields
                    if getattr(record, f) not in (None, "", {}, [])
                ]
                what = f"{label} created"
            elif record.history_type == "-":
                changes, what = [], f"{label} deleted"
            else:
                changes = [
                    Change(_label(model, f), show(f, getattr(before, f)), show(f, getattr(record, f)))
                    for f in fields
                    if getattr(before, f) != getattr(record, f)
                ]
                what = f"{label} changed"
            previous[record.id] = record
            if changes or record.history_type != "~":
                entries.append(
                    HistoryEntry(record.history_date, who(record), what, record.history_change_reason or "", changes)
                )

    diff(Territory, TERRITORY_HISTORY_FIELDS, records, lambda r: "Territory")
    diff(
        RepAssignment,
        ASSIGNMENT_HISTORY_FIELDS,
        assignment_records,
        lambda r: f"{RepAssignment.Slot(r.slot).label} assignment of {names.get(r.user_id, 'someone')}",
    )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries
