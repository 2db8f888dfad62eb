"""``manage.py load_support``: the database side of the load test (``scripts/load.sh``).

* ``prepare --out FILE``: the locust users' fixture (a signed-in session per simulated user, one
  territory per admin, lead bodies, a fresh integration key named "load test");
* ``reroute``: queue a full re-route job and print its id;
* ``verify --job ID``: wait for every re-route job to end, then check the placements (one JSON
  line; exit status 1 when the check fails)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning import loadrun


class Command(BaseCommand):
    help = "Prepare the load test's fixture, start its full re-route, or verify that re-route afterwards."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["prepare", "reroute", "verify"])
        parser.add_argument("--out", help="prepare: where to write the fixture (JSON).")
        for role, default in (("reps", 28), ("managers", 12), ("admins", 5)):
            parser.add_argument(f"--{role}", type=int, default=default, help=f"prepare: simulated {role} (sessions).")
        parser.add_argument("--accounts", type=int, help="prepare: refuse unless the database has this many accounts.")
        parser.add_argument("--job", type=int, help="verify: the re-route job's id.")
        parser.add_argument("--wait", type=float, default=900, help="verify: seconds to wait for jobs to end.")
        parser.add_argument("--sample", type=int, default=2000, help="verify: accounts routed again one by one.")

    def handle(self, *args, **options) -> None:
        try:
            if options["action"] == "prepare":
                if not options["out"]:
                    raise CommandError("prepare needs --out FILE.")
                fixture = loadrun.prepare(reps=options["reps"], managers=options["managers"],
                                          admins=options["admins"], accounts=options["accounts"])
                Path(options["out"]).write_text(json.dumps(fixture))
                self.stdout.write(f"{options['out']}: {len(fixture['reps'])} reps, "
                                  f"{len(fixture['managers'])} managers, {fixture['accounts']:,} accounts")
            elif options["action"] == "reroute":
                self.stdout.write(str(loadrun.reroute_start().pk))
            else:
                if not options["job"]:
                    raise CommandError("verify needs --job ID.")
                figures = loadrun.reroute_verify(job_id=options["job"], wait_s=options["wait"],
                                                 sample=options["sample"])
                self.stdout.write(json.dumps(figures))
                if not figures["ok"]:
                    raise CommandError("The re-route under load did not end correctly (see the figures above).")
        except loadrun.LoadRunError as exc:
            raise CommandError(str(exc)) from exc
