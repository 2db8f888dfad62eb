"""Reassignment proposals, one module per job: ``errors`` (the one error the services raise),
``access`` (which proposals and territories a user may see or propose on), ``changes`` (the
change as data, validated per kind), ``impact`` (what a proposal would move, from the routing
engine) with ``snapshot`` (the figures approvers see) and ``ids`` (id sets in queries),
``services`` (every write: propose, edit, submit, decide, withdraw, execute), ``notices``
(customer notices), ``execute`` (the set-based execution), ``daily`` (the daily run),
``transition`` (the outgoing rep's view in a transition window), ``selectors`` (the pages' reads)."""
