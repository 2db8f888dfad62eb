"""Recompute every territory object permission from roles, assignments, the tree and the org
chart (``territories.grants``). Safe to run at any time: it writes only the difference."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from territories.grants import grants_rebuild
from territories.models import TerritoryPlan


class Command(BaseCommand):
    help = "Rebuild the territory object permissions (django-guardian rows) from the role rules."

    def add_arguments(self, parser):
        parser.add_argument("--plan", type=int, help="Only the territories of this plan (id)")

    def handle(self, *args, **options):
        plan = None
        if options.get("plan"):
            plan = TerritoryPlan.objects.filter(pk=options["plan"]).first()
            if plan is None:
                raise CommandError(f"No plan with id {options['plan']}")
        started = time.perf_counter()
        count = grants_rebuild(plan=plan)
        elapsed = time.perf_counter() - started
        scope = f" in {plan}" if plan else ""
        self.stdout.write(f"{count} territory object permission rows{scope} ({elapsed:.2f} s)")
