"""The routing benchmark behind ``manage.py bench_routing``: a synthetic plan and accounts in the
configured database, then timings of the engine, the lead-routing API, a full and a
changed-territory re-route, against a floor measured in the same run.

Meant for a scratch database (``createdb salesos_bench`` then ``migrate``): everything it creates
is marked (accounts with a ``.bench.example`` domain, the plan "Benchmark plan", users
``bench-rep-*``) and removed at the end unless ``keep``. It refuses to run where other accounts
exist unless forced, and then touches only its own rows. The real active plan is archived for
the run and restored afterwards (one plan may be active at a time).
"""

from .marks import BENCH_DOMAIN, BENCH_PLAN, BENCH_TOKEN, BENCH_USER_PREFIX, BenchRefused, cleanup, foreign_accounts
from .run import dumps, run

__all__ = [
    "BENCH_DOMAIN",
    "BENCH_PLAN",
    "BENCH_TOKEN",
    "BENCH_USER_PREFIX",
    "BenchRefused",
    "cleanup",
    "dumps",
    "foreign_accounts",
    "run",
]
