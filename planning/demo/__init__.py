"""The demo company: a realistic, reproducible data set for SalesOS (``manage.py seed_demo``).

Everything is derived from two inputs, the seed and an anchor date ("today" for the data set):
the same ``accounts``, ``seed`` and ``anchor`` give the same records on any database. All
randomness comes from ``numpy.random.Generator`` streams spawned from the seed, and every date is
an offset from the anchor, never from the clock.

What gets built, in order:

* the sales org: an admin, three regional directors (top of the org chart: ``manager`` is None),
  eight area managers reporting to them, ~58 account executives and three solutions engineers
  reporting to the managers; ramping new hires, one rep on leave today with a backup;
* fiscal years (the previous and the current one, February to January, four quarters each);
* accounts (vectorised with numpy): real US cities and ZIP codes, metros elsewhere, NAICS
  subsectors, log-normal company sizes, revenue and potential;
* the active "FYxxxx Territory Plan": Global -> regions -> areas -> leaf territories, drawn from
  the generated accounts so that leaves are balanced by account count;
* routing: the accounts are routed by the production full re-route (``routing.batch.plan_reroute``)
  once accounts, territories and assignments are stored, so the AccountTerritory rows and their
  shared ``RoutingDecision`` rows are the ones production writes (an account's territory is its
  current primary row, its owner that territory's owner: ``territories.placement``). The org is
  staffed before that from a pre-route of the generated records by the same vectorised engine the
  batch runs (``routing.engine.vector``, see ``_preroute``); the seed refuses to finish if the two
  disagree. Routed leads carry the lead router's decision (the compiled plan's ``resolve``);
* opportunities, activities, leads and quotas.

Speed: attributes are generated column-wise with numpy, and the big tables (accounts,
opportunities, activities) are streamed without Model instances: COPY on PostgreSQL, executemany
elsewhere (``_stream_rows``); the batch streams the routing rows its own way. Accounts get explicit
ids (continuing after the table's largest id; the PostgreSQL sequence is reset afterwards) so that the rows referencing
them can be built in the same pass. 100,000 accounts take ~8 s on SQLite and ~12 s on PostgreSQL.
"""

from planning.demo.common import SeedError, SeedReport
from planning.demo.seed import demo_data_exists, ensure_reference_data, reset_demo_data, seed_demo

__all__ = ["SeedError", "SeedReport", "demo_data_exists", "ensure_reference_data", "reset_demo_data", "seed_demo"]
