"""``manage.py seed_demo``: create the demo company (see ``planning.demo``)."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from planning import demo


class Command(BaseCommand):
    help = (
        "Create a realistic, reproducible demo company: sales org, fiscal years, an active territory plan, "
        "accounts with their territories, deals, activities, leads and quotas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=20000, help="Number of accounts (default 20000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--anchor",
            type=dt.date.fromisoformat,
            default=None,
            help="The data set's 'today' (YYYY-MM-DD); every date is relative to it. Default: today.",
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true", help="Do nothing when data already exists.")
        group.add_argument("--reset", action="store_true", help="Delete existing demo data first.")

    def handle(self, *args, accounts: int, seed: int, anchor: dt.date | None, if_empty: bool, reset: bool,
               **options) -> None:
        verbose = options["verbosity"] >= 1
        log = self.stdout.write if verbose else None
        started = time.perf_counter()
        reference_seconds = demo.ensure_reference_data(log)
        if demo.demo_data_exists():
            if if_empty:
                if verbose:
                    self.stdout.write("Data already exists; nothing to do (--if-empty).")
                return
            if not reset:
                raise CommandError(
                    "Data already exists (accounts, plans, fiscal years or demo users). "
                    "Use --reset to delete it and seed again, or --if-empty to skip."
                )
            reset_started = time.perf_counter()
            demo.reset_demo_data()
            if verbose:
                self.stdout.write(f"Deleted the existing demo data in {time.perf_counter() - reset_started:.1f} s")
        if verbose:
            self.stdout.write(f"Seeding {accounts:,} accounts (seed {seed}, anchor {anchor or 'today'})...")
        try:
            report = demo.seed_demo(accounts=accounts, seed=seed, anchor=anchor, log=log)
        except demo.SeedError as exc:
            raise CommandError(str(exc)) from exc
        # Fresh planner statistics for the rows just loaded (what autovacuum would do later):
        # without them PostgreSQL plans the lists' "unassigned" filter as if the tables were empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if not verbose:
            return
        for name, count in report.counts.items():
            self.stdout.write(f"  {name:<28} {count:>9,}")
        if reference_seconds is not None:
            self.stdout.write(f"Reference data: {reference_seconds:.1f} s (not included below)")
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {report.counts['accounts']:,} accounts, {report.counts['opportunities']:,} opportunities, "
            f"{report.counts['activities']:,} activities and {report.counts['leads']:,} leads "
            f"in {report.seconds:.1f} s (command total {time.perf_counter() - started:.1f} s)."
        ))
