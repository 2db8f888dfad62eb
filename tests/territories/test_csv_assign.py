"""Bulk assignment by CSV: every bad file gives line-numbered errors and changes nothing; a good
file applies whole."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from territories import csv_assign
from territories.models import RepAssignment
from tests import factories

pytestmark = pytest.mark.django_db
HEADER = "username,territory_code,slot,split_percent\n"


@pytest.fixture
def world():
    plan = factories.make_plan()
    admin = factories.make_user("admin", username="ops")
    reps = {n: factories.make_user(username=n) for n in ("ann", "bob", "cy")}
    west = factories.make_territory(plan, code="WEST")
    east = factories.make_territory(plan, code="EAST")
    held = factories.make_territory(plan, code="HELD")
    factories.assign(held, reps["cy"])
    factories.assign(east, reps["cy"], slot="overlay", split_percent=70)
    c = Client()
    c.force_login(admin)
    return {"plan": plan, "admin": admin, "reps": reps, "west": west, "east": east, "client": c}


def upload(client, content: bytes | str, name="a.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(reverse("territories:csv_upload"), {"file": SimpleUploadedFile(name, data, "text/csv")})


BAD_FILES = {
    "missing column": ("username,territory_code,slot\nann,WEST,primary\n", [(1, "missing column split_percent")]),
    "unknown column": (HEADER.strip() + ",colour\nann,WEST,primary,,red\n", [(1, "unknown column colour")]),
    "unknown rep": (HEADER + "ann,WEST,backup,\nzed,WEST,primary,\n", [(3, "unknown rep “zed”")]),
    "unknown code": (HEADER + "ann,NOPE,primary,\n", [(2, "unknown territory code “NOPE”")]),
    "bad slot": (HEADER + "ann,WEST,boss,\n", [(2, "slot “boss” is not primary")]),
    "duplicate primary in file": (HEADER + "ann,WEST,primary,\nbob,WEST,primary,\n",
                                  [(3, "duplicate primary for WEST (also line 2)")]),
    "duplicate primary vs current": (HEADER + "ann,HELD,primary,\n", [(2, "HELD already has a primary owner")]),
    "split over 100 on a row": (HEADER + "ann,WEST,overlay,120\n", [(2, "split_percent 120 is outside 0–100")]),
    "split over 100 with current": (HEADER + "ann,EAST,overlay,20\nbob,EAST,overlay,20\n",
                                    [(3, "overlay splits of EAST would total 110%")]),
    "split over 100 in file": (HEADER + "ann,WEST,overlay,60\nbob,WEST,overlay,50\n",
                               [(3, "overlay splits of WEST would total 110%")]),
    "overlay without split": (HEADER + "ann,WEST,overlay,\n", [(2, "an overlay needs its split_percent")]),
    "bad date": ("username,territory_code,slot,split_percent,start_date\nann,WEST,primary,,31/02/2026\n",
                 [(2, "start_date “31/02/2026” is not a date")]),
    "empty": ("", [(0, "The file is empty.")]),
    "header only": (HEADER, [(0, "no assignments")]),
    "wrong encoding": ((HEADER + "ann,WEST,primary,\njos\xe9,WEST,backup,\n").encode("latin-1"),
                       [(3, "not UTF-8")]),
    "too many values": (HEADER + "ann,WEST,primary,,x,y\n", [(2, "6 values for 4 columns")]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_give_line_numbered_errors_and_change_nothing(world, case):
    content, expected = BAD_FILES[case]
    before = RepAssignment.objects.count()
    checked = csv_assign.csv_check(data=content.encode() if isinstance(content, str) else content, plan=world["plan"])
    assert not checked.ok
    for line, text in expected:
        assert any(line == got_line and text in message for got_line, message in checked.errors), checked.errors
    r = upload(world["client"], content)
    html = r.content.decode()
    assert r.status_code == 422 and "Nothing was changed" in html
    # Applying the same text anyway (a crafted post) changes nothing either.
    text = content.decode("latin-1") if isinstance(content, bytes) else content
    r = world["client"].post(reverse("territories:csv_upload"), {"apply": "yes", "content": text})
    assert r.status_code == 422
    assert RepAssignment.objects.count() == before


def test_too_large(world):
    big = HEADER + "ann,WEST,backup,\n" * 130_000
    assert len(big.encode()) > csv_assign.MAX_BYTES
    r = upload(world["client"], big)
    assert r.status_code == 422 and "the limit is 2 MB" in r.content.decode()


def test_good_file_previews_then_applies_all(world):
    content = ("\ufeffUsername,Territory_Code,Slot,Split_Percent,start_date\r\n"
               "ann,west,primary,,\r\nbob,WEST,overlay,30%,2026-03-01\r\ncy,WEST,backup,,\r\n\r\n"
               "bob,EAST,overlay,30,\r\n")
    r = upload(world["client"], content.encode())
    html = r.content.decode()
    assert r.status_code == 200 and "Apply all 4" in html and RepAssignment.objects.count() == 2
    r = world["client"].post(reverse("territories:csv_upload"), {"apply": "yes", "content": content})
    assert r.status_code == 302
    west = world["west"]
    got = set(west.assignments.values_list("user__username", "slot", "split_percent"))
    assert got == {("ann", "primary", 100), ("bob", "overlay", 30), ("cy", "backup", 0)}
    bob = RepAssignment.objects.get(user__username="bob", territory=west)
    assert bob.history.latest().history_user == world["admin"]


def test_apply_is_all_or_nothing_when_data_changed_after_preview(world):
    content = HEADER + "ann,WEST,primary,\nbob,EAST,overlay,30\n"
    assert csv_assign.csv_check(data=content, plan=world["plan"]).ok
    factories.assign(world["east"], world["reps"]["ann"], slot="overlay", split_percent=10)  # meanwhile
    checked = csv_assign.csv_apply(data=content, plan=world["plan"], by=world["admin"])
    assert not checked.ok and checked.errors[0][0] == 3
    assert not world["west"].assignments.exists()


def test_template_download_and_permissions(world):
    r = world["client"].get(reverse("territories:csv_template"))
    assert r["Content-Type"].startswith("text/csv") and r.content.decode().startswith("username,territory_code")
    assert csv_assign.csv_check(data=r.content.replace(b"jdoe", b"ann").replace(b"asmith", b"bob")
                                .replace(b"bchan", b"cy").replace(b"AMER-W-CA", b"WEST"), plan=world["plan"]).ok
    rep = Client()
    rep.force_login(world["reps"]["ann"])
    assert rep.get(reverse("territories:csv_upload")).status_code == 404
    assert rep.get(reverse("territories:csv_template")).status_code == 404


def _bulk_world(world, territories: int):
    from territories.models import Territory

    Territory.objects.bulk_create(
        Territory(plan=world["plan"], code=f"B{i:05d}", name=f"Bulk {i}") for i in range(territories)
    )
    reps = [world["reps"]["ann"], world["reps"]["bob"], world["reps"]["cy"],
            *(factories.make_user(username=f"rep{i}") for i in range(2))]
    slots = [("primary", ""), ("overlay", "30"), ("overlay", "30"), ("backup", ""), ("backup", "")]
    lines = [HEADER.strip()]
    for i in range(territories):
        for k, (slot, split) in enumerate(slots):
            lines.append(f"{reps[(i + k) % 5].username},B{i:05d},{slot},{split}")
    return "\n".join(lines) + "\n"


def test_apply_of_10000_rows_is_all_or_nothing_when_row_9999_fails(world):
    content = _bulk_world(world, 2000)
    assert content.count("\n") == 10_001
    assert csv_assign.csv_check(data=content, plan=world["plan"]).ok  # the preview
    # Meanwhile someone takes the slot that line 10,000 (the 9,999th assignment) gives.
    line_9999 = content.splitlines()[9999]
    username, code, slot, _ = line_9999.split(",")
    from territories.models import Territory

    factories.assign(Territory.objects.get(plan=world["plan"], code=code),
                     factories.User.objects.get(username=username), slot=slot)
    before = RepAssignment.objects.count()
    checked = csv_assign.csv_apply(data=content, plan=world["plan"], by=world["admin"])
    assert not checked.ok and [line for line, _ in checked.errors] == [10_000]
    assert RepAssignment.objects.count() == before
    assert not RepAssignment.objects.filter(territory__code="B00000").exists()


@pytest.mark.parametrize("territories", [10, 200])
def test_apply_is_bulk_with_history_and_grants(world, territories, django_assert_max_num_queries):
    content = _bulk_world(world, territories)
    with django_assert_max_num_queries(45):
        checked = csv_assign.csv_apply(data=content, plan=world["plan"], by=world["admin"])
    assert checked.ok and len(checked.rows) == 5 * territories
    added = RepAssignment.objects.filter(territory__code__startswith="B")
    assert added.count() == 5 * territories
    first = added.get(territory__code="B00001", slot="primary")
    assert (first.user.username, first.split_percent) == ("bob", 100)
    record = first.history.latest()
    assert record.history_user == world["admin"] and record.history_change_reason == "Assigned as primary"
    from territories.access import territory_has_perm

    assert territory_has_perm(user=first.user, territory=first.territory)  # grants synchronised


def test_primary_start_date_may_not_overlap_an_ended_primary(world):
    import datetime as dt

    held = world["plan"].territories.get(code="HELD")
    current = held.assignments.get(slot="primary")
    end = dt.date.today() + dt.timedelta(days=30)
    current.start_date, current.end_date = dt.date(2020, 1, 1), end
    current.save()
    content = f"username,territory_code,slot,split_percent,start_date\nann,HELD,primary,,{end}\n"
    checked = csv_assign.csv_check(data=content, plan=world["plan"])
    assert checked.errors == [(2, f"HELD had a primary owner until {end}: start_date must be after that")]
    later = end + dt.timedelta(days=1)
    assert csv_assign.csv_apply(data=content.replace(str(end), str(later)), plan=world["plan"], by=world["admin"]).ok
    assert held.assignments.get(slot="primary", end_date__isnull=True).start_date == later
    # Without a start date the next primary starts the day after the last one ends (as the page does).
    held.assignments.filter(end_date__isnull=True).update(end_date=later)
    assert csv_assign.csv_apply(data="username,territory_code,slot,split_percent\nbob,HELD,primary,\n",
                                plan=world["plan"], by=world["admin"]).ok
    assert held.assignments.get(user__username="bob").start_date == later + dt.timedelta(days=1)
