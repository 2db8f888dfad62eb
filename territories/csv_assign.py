"""Bulk rep assignment from a CSV file: ``username,territory_code,slot,split_percent`` and an
optional ``start_date`` (YYYY-MM-DD), one assignment per line.

The file is checked whole before anything changes (``csv_check``), and applied all-or-nothing
(``csv_apply`` locks the territories it names, re-checks the file inside one transaction and
inserts every assignment with its history record in bulk; if anything fails, nothing is kept).
Every problem names its line:
wrong or missing columns, unknown rep or territory code, unknown slot, a second primary (in the
file or against the current one), overlay splits over 100 (per row, or with the territory's
current overlays), dates, an empty file, a file that is not UTF-8, a file over 2 MB.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from simple_history.utils import bulk_create_with_history

from territories import coverage, services
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
Slot = RepAssignment.Slot

MAX_BYTES = 2 * 1024 * 1024
BATCH = 2000  # rows per INSERT when applying
REQUIRED = ("username", "territory_code", "slot", "split_percent")
OPTIONAL = ("start_date",)
TEMPLATE = (
    "username,territory_code,slot,split_percent,start_date\r\n"
    "jdoe,AMER-W-CA,primary,,\r\n"
    "asmith,AMER-W-CA,overlay,30,2026-03-01\r\n"
    "bchan,AMER-W-CA,backup,,\r\n"
)


@dataclass
class Row:
    line: int
    username: str
    code: str
    slot: str
    split: int
    start_date: dt.date | None
    user: Any
    territory: Territory
    note: str = ""

    @property
    def is_overlay_slot(self) -> bool:
        return self.slot == RepAssignment.Slot.OVERLAY


@dataclass
class Checked:
    rows: list[Row] = dc_field(default_factory=list)
    errors: list[tuple[int, str]] = dc_field(default_factory=list)  # (line, message); line 0: the file
    text: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def decode(data: bytes) -> tuple[str | None, list[tuple[int, str]]]:
    """The file's text, or the file-level problem."""
    if len(data) > MAX_BYTES:
        size = len(data) / 1024 / 1024
        return None, [(0, f"The file is {size:.1f} MB; the limit is 2 MB. Split it into smaller files.")]
    if not data.strip():
        return None, [(0, "The file is empty.")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [(line, "The file is not UTF-8 text (byte "
                             f"0x{data[exc.start]:02x}). Save it as “CSV UTF-8” and upload it again.")]
    return text, []


def csv_check(*, data: bytes | str, plan: TerritoryPlan,
              may_assign: Callable[[Territory], bool] | None = None) -> Checked:
    """Reads and checks the whole file without writing. ``may_assign``: whether the uploader may
    change a territory (others read as unknown codes, so nothing leaks)."""
    text: str | None
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")
        text, errors = data, ([] if data.strip() else [(0, "The file is empty.")])
        if len(data.encode()) > MAX_BYTES:
            errors = [(0, "The file is over 2 MB.")]
    else:
        text, errors = decode(data)
    result = Checked(errors=list(errors), text=text or "")
    if text is None or errors:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        result.errors.append((1, "The file has no header line."))
        return result
    columns = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    unknown = [h for h in columns if h and h not in REQUIRED + OPTIONAL]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if missing or unknown or duplicated:
        parts = []
        if missing:
            parts.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        if duplicated:
            parts.append(f"repeated column{'s' if len(duplicated) > 1 else ''} {', '.join(duplicated)}")
        result.errors.append((1, f"Header: {'; '.join(parts)}. Expected: {','.join(REQUIRED + OPTIONAL)}."))
        return result
    index = {c: columns.index(c) for c in REQUIRED + OPTIONAL if c in columns}

    raw: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            line = reader.line_num
            if len(cells) > len(columns):
                result.errors.append((line, f"{len(cells)} values for {len(columns)} columns."))
                continue
            raw.append((line, {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}))
    except csv.Error as exc:
        result.errors.append((reader.line_num, f"Not readable as CSV: {exc}."))
        return result
    if not raw and not result.errors:
        result.errors.append((0, "The file has a header but no assignments."))
        return result

    # One query each for the reps, the territories and the current assignments they touch.
    usernames = {r["username"].lower() for _, r in raw if r["username"]}
    users = {
        u.username.lower(): u
        for u in User.objects.filter(is_active=True, sales_profile__isnull=False)
        .filter(username__in=[*usernames, *(n.upper() for n in usernames)]).select_related("sales_profile")
    }
    if len(users) < len(usernames):  # usernames are case-sensitive in the table; match them loosely
        for u in User.objects.filter(is_active=True, sales_profile__isnull=False):
            if u.username.lower() in usernames:
                users.setdefault(u.username.lower(), u)
    codes = {r["territory_code"].upper() for _, r in raw if r["territory_code"]}
    territories = {t.code.upper(): t for t in Territory.objects.filter(plan=plan, code__in=codes)}
    if len(territories) < len(codes):
        for t in Territory.objects.filter(plan=plan):
            if t.code.upper() in codes:
                territories.setdefault(t.code.upper(), t)
    # Open rows (no end date) are what ``services.assignment_add`` refuses to duplicate.
    current = coverage.open_assignments().filter(territory__in=territories.values())
    primary_now = {a.territory_id: a for a in current.filter(slot=Slot.PRIMARY).select_related("user")}
    held_now = set(current.values_list("territory_id", "user_id", "slot"))
    overlay_now = dict(
        current.filter(slot=Slot.OVERLAY).values("territory_id").annotate(t=Sum("split_percent"))
        .values_list("territory_id", "t")
    )
    last_primary_end = services.primary_last_ends(territory_ids=[t.pk for t in territories.values()])

    primary_line: dict[int, int] = {}
    seen: dict[tuple[int, int, str], int] = {}
    overlay_total: dict[int, int] = defaultdict(int)
    for line, r in raw:
        problems: list[str] = []
        user = users.get(r["username"].lower()) if r["username"] else None
        if not r["username"]:
            problems.append("username is empty")
        elif user is None:
            problems.append(f"unknown rep “{r['username']}”")
        territory = territories.get(r["territory_code"].upper()) if r["territory_code"] else None
        if territory is not None and may_assign is not None and not may_assign(territory):
            territory = None
        if not r["territory_code"]:
            problems.append("territory_code is empty")
        elif territory is None:
            problems.append(f"unknown territory code “{r['territory_code']}” in {plan.name}")
        slot = r["slot"].lower()
        if slot not in Slot.values:
            problems.append(f"slot “{r['slot']}” is not primary, overlay or backup")
        split_text = r["split_percent"].rstrip("%").strip()
        split = 100 if slot == Slot.PRIMARY else 0
        if split_text:
            try:
                split = int(split_text)
            except ValueError:
                problems.append(f"split_percent “{r['split_percent']}” is not a whole number")
            else:
                if split > 100 or split < 0:
                    problems.append(f"split_percent {split} is outside 0–100")
                elif slot == Slot.PRIMARY and split != 100:
                    problems.append("a primary carries 100%: leave split_percent empty")
        elif slot == Slot.OVERLAY:
            problems.append("an overlay needs its split_percent")
        start = None
        if r.get("start_date"):
            try:
                start = dt.date.fromisoformat(r["start_date"])
            except ValueError:
                problems.append(f"start_date “{r['start_date']}” is not a date like 2026-03-01")
        if not problems and territory is not None and user is not None:
            key = (territory.pk, user.pk, slot)
            if key in seen:
                problems.append(f"the same assignment is on line {seen[key]}")
            elif key in held_now:
                problems.append(f"{r['username']} already holds the {slot} slot of {territory.code}")
            seen.setdefault(key, line)
            if slot == Slot.PRIMARY:
                if territory.pk in primary_line:
                    problems.append(f"duplicate primary for {territory.code} (also line {primary_line[territory.pk]})")
                elif territory.pk in primary_now:
                    holder = primary_now[territory.pk].user
                    problems.append(f"{territory.code} already has a primary owner "
                                    f"({holder.get_full_name() or holder.username}); end that assignment first")
                primary_line.setdefault(territory.pk, line)
                ended = last_primary_end.get(territory.pk)
                if start is not None and ended is not None and start <= ended:
                    problems.append(f"{territory.code} had a primary owner until {ended:%Y-%m-%d}: "
                                    "start_date must be after that")
            if slot == Slot.OVERLAY and 0 <= split <= 100:
                overlay_total[territory.pk] += split
                total = overlay_total[territory.pk] + int(overlay_now.get(territory.pk) or 0)
                if total > 100:
                    problems.append(f"overlay splits of {territory.code} would total {total}% (max 100%, "
                                    f"{int(overlay_now.get(territory.pk) or 0)}% already given)")
        if problems:
            result.errors.append((line, "; ".join(problems)))
            continue
        assert territory is not None
        note = ""
        if slot == Slot.OVERLAY:
            note = f"overlay total {overlay_total[territory.pk] + int(overlay_now.get(territory.pk) or 0)}%"
        elif slot == Slot.PRIMARY:
            note = "fills a vacancy"
        result.rows.append(Row(line, r["username"], territory.code, slot, split, start, user, territory, note))
    result.errors.sort()
    return result


@transaction.atomic
def csv_apply(*, data: bytes | str, plan: TerritoryPlan, by: Any,
              may_assign: Callable[[Territory], bool] | None = None) -> Checked:
    """Checks the file again and adds every assignment, or none: any problem (including one
    that appeared since the preview) rolls the whole file back and is returned.

    Set-based, so a 10,000-line file applies in one request: the territories are locked (as
    ``assignment_add`` locks one) and the file re-checked under the lock, then every assignment
    and its history record is inserted in bulk and the grants are synchronised once."""
    checked = csv_check(data=data, plan=plan, may_assign=may_assign)
    if not checked.ok:
        return checked
    territory_ids = sorted({row.territory.pk for row in checked.rows})
    list(Territory.objects.select_for_update().filter(pk__in=territory_ids).order_by("pk").values_list("pk", flat=True))
    # Under the lock nothing else can add to these territories: what this check sees holds until commit.
    checked = csv_check(data=data, plan=plan, may_assign=may_assign)
    if not checked.ok:
        return checked
    last_ends = services.primary_last_ends(territory_ids=territory_ids)
    assignments = []
    for row in checked.rows:
        start = row.start_date or services.assignment_default_start(
            slot=row.slot, last_primary_end=last_ends.get(row.territory.pk)
        )
        split = 100 if row.slot == Slot.PRIMARY else 0 if row.slot == Slot.BACKUP else row.split
        assignment = RepAssignment(territory=row.territory, user=row.user, slot=row.slot, split_percent=split,
                                   start_date=start)
        try:
            # Field checks only: the rep and territory were read above, and the row rules (one primary,
            # no overlap, splits) were checked for the whole file.
            assignment.clean_fields(exclude=["territory", "user"])
        except ValidationError as exc:
            checked.errors.append((row.line, "; ".join(exc.messages)))
        services.stamp(assignment, by=by, reason=f"Assigned as {row.slot}")
        assignments.append(assignment)
    if checked.errors:
        return checked
    try:
        with transaction.atomic():
            bulk_create_with_history(assignments, RepAssignment, batch_size=BATCH, default_user=by)
    except IntegrityError:  # a write that bypassed the territory locks
        checked.errors.append((0, "The assignments of these territories changed meanwhile; nothing was applied. "
                                  "Check the file again."))
        return checked
    services.grants_refresh(territories=[row.territory for row in checked.rows],
                            users=[row.user for row in checked.rows])
    return checked
