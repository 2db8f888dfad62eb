"""``manage.py bench_routing``: routing figures as one JSON line (see ``routing.bench``).

Meant for a scratch database: ``createdb salesos_bench``, ``DATABASE_URL=... manage.py migrate``,
then ``DATABASE_URL=... manage.py bench_routing --accounts 1000000 --territories 10000 --json``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing import bench


class Command(BaseCommand):
    help = (
        "Build a synthetic plan of M territories and N accounts in the configured (scratch) database, time the "
        "engine, the lead-routing API, a full and a changed-territory re-route against the floor, print JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000, help="Accounts to create (default 100000).")
        parser.add_argument("--territories", type=int, default=10_000, help="Territories (default 10000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--json", action="store_true", help="Print only the JSON line.")
        parser.add_argument("--keep", action="store_true", help="Leave the benchmark plan and accounts in place.")
        parser.add_argument("--force", action="store_true",
                            help="Run even though the database holds other accounts (they get re-routed).")
        parser.add_argument("--engine-sample", type=int, default=20_000, help="Records timed one by one.")
        parser.add_argument("--api-requests", type=int, default=2_000, help="Requests to POST /api/v1/route.")
        parser.add_argument("--verify", type=int, default=200,
                            help="Accounts re-routed one by one to check the batch result (0: skip).")

        parser.add_argument("--workers", type=int, default=0,
                            help="Run the full re-route as shards through N real task worker processes on the "
                                 "Redis broker (REDIS_URL); 0 (default): in this process.")
        parser.add_argument("--shard-size", type=int, default=50_000, help="Accounts per shard with --workers.")
        parser.add_argument("--no-again", action="store_true",
                            help="Skip the second full re-route (the one that finds nothing to change).")

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 1 or options["territories"] < 10:
            raise CommandError("Use at least 1 account and 10 territories.")
        if options["workers"] < 0 or options["shard_size"] < 1:
            raise CommandError("--workers must be 0 or more and --shard-size at least 1.")
        quiet = options["json"] or options["verbosity"] < 1
        try:
            figures = bench.run(
                accounts=options["accounts"],
                territories=options["territories"],
                seed=options["seed"],
                keep=options["keep"],
                force=options["force"],
                engine_sample=options["engine_sample"],
                api_requests=options["api_requests"],
                verify=options["verify"],
                again=not options["no_again"],
                workers=options["workers"],
                shard_size=options["shard_size"],
                log=None if quiet else (lambda msg: self.stderr.write(msg)),
            )
        except bench.BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(bench.dumps(figures))
