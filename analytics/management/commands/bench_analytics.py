"""``manage.py bench_analytics``: the dashboards' server time as one JSON line (see
``analytics.bench``). Meant for a scratch database: ``createdb salesos_bench``,
``DATABASE_URL=... manage.py migrate``, then ``DATABASE_URL=... manage.py bench_analytics --accounts N --json``.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import bench
from routing.bench import BenchRefused


class Command(BaseCommand):
    help = "Build N accounts with deals and activities in the (scratch) database, time each dashboard page, print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000, help="Accounts to create (default 100000).")
        parser.add_argument("--territories", type=int, default=2_000, help="Territories (default 2000).")
        parser.add_argument("--requests", type=int, default=20, help="Requests per page (default 20).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
        parser.add_argument("--keep", action="store_true", help="Leave the benchmark rows in place.")
        parser.add_argument("--force", action="store_true", help="Run even though the database holds other accounts.")

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 1 or options["requests"] < 1:
            raise CommandError("Use at least 1 account and 1 request.")
        quiet = options["json"] or options["verbosity"] < 1
        try:
            figures = bench.run(accounts=options["accounts"], territories=options["territories"],
                                seed=options["seed"], requests=options["requests"], keep=options["keep"],
                                force=options["force"], log=None if quiet else (lambda m: self.stderr.write(m)))
        except BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(figures, separators=(",", ":")))
