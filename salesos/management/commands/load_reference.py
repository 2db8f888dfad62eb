"""``manage.py load_reference``: load regions, countries, states, metros, US ZIP codes, NAICS and
SIC from ``salesos/data/`` (idempotent; writes only what changed)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from salesos.reference import load_reference, reference_loaded


class Command(BaseCommand):
    help = "Load the shipped reference data (geography and industry codes). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="Do nothing when the reference data is already loaded (used by `make run`).",
        )

    def handle(self, *args, if_needed: bool = False, **options):
        if if_needed and reference_loaded():
            if options["verbosity"] >= 1:
                self.stdout.write("Reference data already loaded.")
            return
        started = time.perf_counter()
        verbose = options["verbosity"] >= 2
        counts = load_reference(stdout=self.stdout if verbose else None)
        if options["verbosity"] >= 1:
            for level, count in counts.items():
                self.stdout.write(f"{level:8} {count:>7,}")
            took = time.perf_counter() - started
            self.stdout.write(self.style.SUCCESS(f"Reference data loaded in {took:.1f}s."))
