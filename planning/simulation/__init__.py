"""The simulator: a draft plan routed with every live account, its impact against the active
plan, and two drafts side by side. ``services`` runs it (a task, with progress), ``impact``
measures it once, ``report`` shapes the stored figures for one reader (what their role may see),
``charts`` draws the flow."""
