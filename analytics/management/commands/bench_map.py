"""``manage.py bench_map``: the map's figures as one JSON line (see ``analytics.map_bench``).

Meant for a scratch database: ``createdb salesos_bench``, ``DATABASE_URL=... manage.py migrate``,
``manage.py load_reference``, then ``DATABASE_URL=... manage.py bench_map --accounts 1000000 --json``.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import map_bench
from routing.bench import BenchRefused


class Command(BaseCommand):
    help = (
        "Build N located accounts and a plan in the configured (scratch) database, time the map's viewport, "
        "boundary and heat endpoints, print JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000, help="Accounts to create (default 100000).")
        parser.add_argument("--viewports", type=int, default=50, help="Random viewports, world to street (50).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
        parser.add_argument("--keep", action="store_true", help="Leave the benchmark plan and accounts in place.")
        parser.add_argument("--force", action="store_true", help="Run even though the database holds other accounts.")

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 1 or options["viewports"] < 1:
            raise CommandError("Use at least 1 account and 1 viewport.")
        quiet = options["json"] or options["verbosity"] < 1
        try:
            figures = map_bench.run(
                accounts=options["accounts"], seed=options["seed"], viewports=options["viewports"],
                keep=options["keep"], force=options["force"],
                log=None if quiet else (lambda msg: self.stderr.write(msg)),
            )
        except BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(figures, separators=(",", ":")))
