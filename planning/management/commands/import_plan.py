"""manage.py import_plan FILE --as-draft [--name NAME] [--check]: a plan export back in, as a
new draft plan; nothing is written when anything in the file is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning.transfer import PlanImportError, plan_import, plan_import_check


class Command(BaseCommand):
    help = ("Reads a plan written by export_plan as a new draft plan. Every part is checked first; with any "
            "problem nothing is written and each problem is listed with its place in the file.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--as-draft", action="store_true", required=True,
                            help="import as a new draft plan (the only way a plan is imported)")
        parser.add_argument("--name", help="the new plan's name (default: the exported name, made unique)")
        parser.add_argument("--check", action="store_true", help="only check the file; write nothing")

    def handle(self, *args, **options) -> None:
        try:
            document = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{options['file']} is not JSON: {exc}") from None
        try:
            if options["check"]:
                plan_import_check(document=document, name=options.get("name"))
                self.stdout.write("The file can be imported.")
                return
            plan = plan_import(document=document, name=options.get("name"))
        except PlanImportError as exc:
            for path, message in exc.problems:
                self.stderr.write(f"{path or '(file)'}: {message}")
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported.") from None
        self.stdout.write(f"Imported draft plan {plan.name!r} (id {plan.pk}, {plan.territories.count()} territories).")
