"""The rule builder, one module per job: ``codec`` (the posted fields <-> the node tree <-> the
rule), ``pickers`` (database-backed option lists and chips) and ``preview`` (what a rule being
edited would cover and move)."""
