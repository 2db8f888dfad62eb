"""``manage.py bench_reassign``: reassignment figures as one JSON line (see ``planning.bench``).

In a scratch PostgreSQL database: ``createdb salesos_bench``, ``DATABASE_URL=... manage.py migrate``,
then ``DATABASE_URL=... manage.py bench_reassign --accounts 1000000 --json``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning import bench
from routing.bench import BenchRefused, dumps


class Command(BaseCommand):
    help = ("Build a synthetic plan and N accounts with open deals in the configured (scratch) PostgreSQL database, "
            "propose moving 10% of the accounts with their deals, time impact and execution against the floor, "
            "print JSON.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000, help="Accounts to create (default 100000).")
        parser.add_argument("--territories", type=int, default=1_000, help="Territories (default 1000).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
        parser.add_argument("--keep", action="store_true", help="Leave the benchmark rows in place.")
        parser.add_argument("--force", action="store_true", help="Run even though other accounts exist.")

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 100 or options["territories"] < 10:
            raise CommandError("Use at least 100 accounts and 10 territories.")
        quiet = options["json"] or options["verbosity"] < 1
        try:
            figures = bench.run(accounts=options["accounts"], territories=options["territories"],
                                seed=options["seed"], keep=options["keep"], force=options["force"],
                                log=None if quiet else (lambda msg: self.stderr.write(msg)))
        except BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(dumps(figures))
