"""Batch re-routing: every account of a plan, or a subset, at once, writing only what changes.

``plan_reroute`` produces exactly the rows ``services.account_route`` would produce account by
account (tests hold it to that), but set-based:

1. read the routable fields the plan's rules use, for every account in scope, column by column
   (on PostgreSQL one query per half of the table whose text pandas parses; ``read``);
2. decide every account at once with ``engine.vector`` (numpy): the winners, conflicts and overlay
   credits, and per account a key naming the set of territories that matched;
3. read the scope's current rows and diff them against the decisions, as arrays (``changes``);
4. unless it is a dry run, in one transaction per chunk of accounts: store one
   ``RoutingDecision`` per key that a written row needs (many rows share one), close the rows
   that change (``valid_to = now``) and insert their successors (a binary ``COPY`` on
   PostgreSQL; ``write``, on ``workers`` connections for a large run). Rows that stay are not
   touched.

Scope "territories" is the path taken after one territory's rule changed: the accounts that
may move are those currently in the territories' subtrees plus those the new rules can match
(``rule_to_q`` over the territory's chain of rules, named lists, locks), found in SQL without
reading every account (``scope``).

``reroute_job_start`` records a ``RoutingJob`` and queues ``routing.tasks.reroute_job_run``
after commit; the job's counters move every chunk so its page can poll them (``jobs``).

A full re-route of many accounts (``ROUTING_SHARD_FROM``) runs as account-id shards, one task each
on any worker, sharing their decisions; the last shard closes the job (``shards``).

The modules, in the order a run uses them: ``scope``, ``read``, ``changes``, ``write`` (with
``workers``), ``reroute`` (the pipeline, with ``result``), ``jobs``, ``shards``.
"""

from routing.batch.changes import RowChanges, decision_keys, diff
from routing.batch.jobs import reroute_job_run, reroute_job_start
from routing.batch.locks import LockMoveResult, accounts_lock_move
from routing.batch.read import SOURCE_NAMES, CurrentRows, read_columns, read_current, read_facts
from routing.batch.reroute import plan_reroute, warm
from routing.batch.result import RerouteResult
from routing.batch.scope import scope_account_ids

__all__ = [
    "accounts_lock_move",
    "SOURCE_NAMES",
    "CurrentRows",
    "LockMoveResult",
    "RerouteResult",
    "RowChanges",
    "decision_keys",
    "diff",
    "plan_reroute",
    "read_columns",
    "read_current",
    "read_facts",
    "reroute_job_run",
    "reroute_job_start",
    "scope_account_ids",
    "warm",
]
