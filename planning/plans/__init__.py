"""The plan lifecycle: copy a plan into a new draft (``clone``), share and submit it for review
through the approval engine, stage it (``services``), check it (``checks``), activate it on its
day in one transaction and re-activate the previous plan within the grace period (``activate``),
and the pages' reads (``selectors``)."""
