"""manage.py export_plan --plan ID [--output FILE]: the plan as one JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning.transfer import plan_export, plan_export_filename
from territories.models import TerritoryPlan


class Command(BaseCommand):
    help = ("Writes one plan (hierarchy, rules, priorities, named lists, rep slots, quotas) as one JSON file; "
            "import_plan reads it back as a draft.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", type=int, required=True, help="the plan's id")
        parser.add_argument("--output", "-o", help="the file to write (default plan-<name>.json; - for stdout)")

    def handle(self, *args, **options) -> None:
        plan = TerritoryPlan.objects.select_related("fiscal_year").filter(pk=options["plan"]).first()
        if plan is None:
            raise CommandError(f"No plan with id {options['plan']}.")
        text = json.dumps(plan_export(plan=plan), indent=2, ensure_ascii=False) + "\n"
        output = options.get("output") or plan_export_filename(plan)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {plan.name} ({plan.territories.count()} territories) to {output}")
