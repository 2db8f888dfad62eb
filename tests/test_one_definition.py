"""Each fact has one home (DESIGN "One definition of each fact"). These scans fail when a second
definition creeps back into the source: a date test on rep assignments outside
``territories/coverage.py``, a template deciding vacancy itself, a role set outside
``salesos/roles.py``, an active-plan query outside ``TerritoryPlan.active``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("salesos", "territories", "routing", "planning", "analytics", "pages")


def sources(*suffixes: str) -> list[Path]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*") if p.suffix in suffixes and "migrations" not in p.parts]
    if ".html" in suffixes:
        files += list((ROOT / "templates").rglob("*.html"))
    return sorted(files)


def offenders(pattern: re.Pattern, files: list[Path], allowed: set[str], *, skip_line: re.Pattern | None = None):
    found = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not (skip_line and skip_line.search(line)):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


# Assignment dates: ORM lookups, SQL, and comparisons of a loaded row's dates.
ASSIGNMENT_DATES = re.compile(
    r"(start|end)_date__(isnull|gte?|lte?|range|exact)"
    r"|end_date\s+IS\s+(NOT\s+)?NULL"
    r"|\.end_date\s+is\s+(not\s+)?None"
    r"|\.(start|end)_date\s*[<>]"
    r"|[<>]=?\s*[\w.]+\.(start|end)_date"
    r"|\b(start|end)_date\s*[<>]=?\s*\w"
    r"|\.(start|end)_date\s*==",
    re.IGNORECASE,
)
# Fiscal years and periods have dates of their own; the demo seed and benchmarks write history.
NOT_ASSIGNMENTS = re.compile(r"FiscalYear|FiscalPeriod|fiscal_year|period\.|fy\.|\bq\.|Leave")
COVERAGE_HOME = {
    "territories/coverage.py",
    "territories/models.py",  # the schema: one open primary, end after start (database constraints)
    "planning/models/fiscal.py",  # fiscal years and periods: their own dates
    "planning/demo/plan.py",  # writes the demo's dated history (assignments, leaves)
    "planning/management/commands/bench_territory_pages.py",
    "routing/bench/synthetic.py",
}


def test_assignment_dates_are_read_only_in_coverage():
    found = offenders(ASSIGNMENT_DATES, sources(".py", ".html"), COVERAGE_HOME, skip_line=NOT_ASSIGNMENTS)
    assert not found, "use territories.coverage instead of testing assignment dates:\n" + "\n".join(found)


def test_vacancy_is_computed_by_coverage_not_templates():
    # A template shows ``vacant``/``staffed`` as computed; it never decides it from the rows.
    pattern = re.compile(r'\{%\s*empty\s*%\}[^{]*[Vv]acant|"vacant"\s*:\s*not\b|\bvacant\s*=\s*not\b')
    found = offenders(pattern, sources(".html", ".py"), set())
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("what", "pattern", "home"),
    [
        ("active plan", re.compile(r"status=(TerritoryPlan|cls)\.Status\.ACTIVE\)(\.\w+\([^)]*\))*\.first\(\)"
                                   r"|def active_plan\("), {"territories/models.py"}),
        ("role set", re.compile(r"_ROLES\s*(:[^=]*)?=\s*(frozenset\()?[{(\[]"), {"salesos/roles.py"}),
        # Record key -> model column: the SQL compiler's mapping, used by services and the API.
        ("record columns", re.compile(r"^(ACCOUNT|LEAD)_COLUMNS\b"), {"routing/sql.py"}),
        # A rule's condition node is built by ``routing.engine.condition``.
        ("condition builder", re.compile(r'return \{"field": \w+, "op": \w+, "value": \w+\}'),
         {"routing/engine/validate.py"}),
    ],
)
def test_one_home(what, pattern, home):
    found = offenders(pattern, sources(".py"), home)
    assert not found, f"{what} defined outside {home}:\n" + "\n".join(found)


def test_queue_roles_agree_with_the_readme():
    # README "Permissions": managers route the unassigned queue, directors work it for their
    # subtrees, admins everything; reps never.
    from salesos.models import SalesProfile
    from salesos.roles import QUEUE_ROLES

    Role = SalesProfile.Role
    assert {Role.ADMIN, Role.DIRECTOR, Role.MANAGER} == QUEUE_ROLES


def test_role_predicates_are_called_by_their_own_name():
    # ``can_route = works_queue`` made one rule look like two; call the salesos.roles predicate.
    pattern = re.compile(
        r"^\w+\s*=\s*(works_queue|edits_accounts|is_admin|opens_any_plan|bulk_assigns|sees_coverage|leads_team|role_of)"
        r"\s*(#.*)?$"
    )
    found = offenders(pattern, sources(".py"), {"salesos/roles.py"})
    assert not found, "\n".join(found)


def test_pages_get_enum_facts_from_the_view_not_string_comparisons():
    # A role page, the plans page, the explanation and the job pages compare no role, status,
    # source or outcome with a literal: the view, selector or model hands them a boolean.
    files = [
        *sorted((ROOT / "templates/pages").glob("home*.html")),
        *sorted((ROOT / "templates/pages/home").glob("*.html")),
        ROOT / "templates/planning/index.html",
        ROOT / "templates/routing/explain.html",
        ROOT / "templates/routing/job.html",
        ROOT / "templates/routing/job_status.html",
        ROOT / "templates/routing/jobs.html",
    ]
    found = offenders(re.compile(r"""[=!]=\s*["']|\{%[^%]*\btoday\b"""), files, set())
    assert not found, "\n".join(found)


def test_no_template_compares_a_role_status_or_slot_string():
    # ``user_is.admin`` (salesos.roles.RoleFlags), ``plan.is_active``, ``assignment.is_primary_slot``:
    # the models and the context say it, every template only asks.
    pattern = re.compile(r"""(user_role|\.status|\.slot)\s*[=!]=\s*["']""")
    found = offenders(pattern, sorted((ROOT / "templates").rglob("*.html")), set())
    assert not found, "\n".join(found)
