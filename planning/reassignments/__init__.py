"""Reassignment proposals, one module per job: ``errors`` (the one error the services raise),
``access`` (which proposals and territories a user may see or propose on), ``changes`` (the
change as data, validated per kind), ``impact`` (what a proposal would move, from the routing
engine's dry run), ``services`` (every write: propose, edit, submit, decide, withdraw, execute),
``execute`` (the set-based execution), ``selectors`` (the pages' reads)."""
