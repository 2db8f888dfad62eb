"""Writes of the planning module: the fiscal calendar and settings, and quota plans. Keyword-only, typed, atomic; a
refused input raises ``ValidationError`` with a message for the page and writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from planning import fiscal, quota_page, quotas, rebalance
from planning.models import FiscalPeriod, FiscalYear, PlanningSettings, Quota, ReassignmentSettings
from planning.reassignments.notices import notice_template_errors
from routing.models import Notification
from salesos.roles import Role
from territories.models import TerritoryPlan

User = get_user_model()


@transaction.atomic
def planning_settings_update(
    *, fiscal_year_start_month: int, overload_percent: int, light_percent: int, balance_tolerance_percent: Decimal
) -> PlanningSettings:
    """Save the organisation's planning settings. The start month applies to years created from
    now on; existing years keep their dates (their quotas and plans are built on them)."""
    settings = PlanningSettings.load()
    settings.fiscal_year_start_month = fiscal_year_start_month
    settings.overload_percent = overload_percent
    settings.light_percent = light_percent
    settings.balance_tolerance_percent = balance_tolerance_percent
    settings.full_clean()
    if light_percent >= overload_percent:
        raise ValidationError("The “has room” threshold must be below the overload threshold.")
    settings.save()
    return settings


@transaction.atomic
def fiscal_year_create(*, end_year: int) -> FiscalYear:
    """Create the fiscal year ending in ``end_year`` from the settings' start month, with its four
    quarters and twelve months. Refused when the name exists or the dates overlap another year."""
    if not fiscal.FIRST_YEAR <= end_year <= fiscal.LAST_YEAR:
        raise ValidationError(f"Choose a year between {fiscal.FIRST_YEAR} and {fiscal.LAST_YEAR}.")
    start_month = PlanningSettings.load().fiscal_year_start_month
    start, end = fiscal.year_span(end_year=end_year, start_month=start_month)
    name = fiscal.year_name(end_year)
    if FiscalYear.objects.filter(name=name).exists():
        raise ValidationError(f"{name} already exists.")
    overlap = FiscalYear.objects.filter(start_date__lte=end, end_date__gte=start).first()
    if overlap is not None:
        raise ValidationError(
            f"{name} would run {start:%b %-d, %Y} – {end:%b %-d, %Y}, which overlaps {overlap.name} "
            f"({overlap.start_date:%b %-d, %Y} – {overlap.end_date:%b %-d, %Y})."
        )
    year = FiscalYear.objects.create(name=name, start_date=start, end_date=end)
    _create_missing_periods(year)
    return year


@transaction.atomic
def fiscal_periods_fill(*, fiscal_year: FiscalYear) -> int:
    """Add the quarters and months ``fiscal_year`` lacks (matched by name); returns how many were
    added. Refused for a year that is not twelve whole months, or whose periods disagree."""
    year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    if not fiscal.is_whole_months(year.start_date, year.end_date):
        raise ValidationError(
            f"{year.name} does not run twelve whole months from a month's first day, so its periods cannot be "
            "made for it; add them in the admin site."
        )
    return _create_missing_periods(year)


def _create_missing_periods(year: FiscalYear) -> int:
    existing = {p.name: p for p in year.periods.all()}
    new = []
    for span in fiscal.year_periods(year.start_date):
        have = existing.get(span.name)
        if have is None:
            new.append(FiscalPeriod(fiscal_year=year, kind=span.kind, name=span.name,
                                    start_date=span.start, end_date=span.end))
        elif (have.start_date, have.end_date, have.kind) != (span.start, span.end, span.kind):
            raise ValidationError(
                f"{year.name} {span.name} runs {have.start_date:%b %-d} – {have.end_date:%b %-d, %Y}, not "
                f"{span.start:%b %-d} – {span.end:%b %-d, %Y}; fix it in the admin site first."
            )
    FiscalPeriod.objects.bulk_create(new)
    return len(new)


def _months_by_quarter(year: FiscalYear, quarters: list[FiscalPeriod]) -> list[list[FiscalPeriod]]:
    """Each quarter's months (the year's month periods that start inside it). A year made of
    quarters only has no monthly split; a quarter whose months do not cover it exactly is refused,
    as its quota could not be split over them."""
    months = list(year.periods.filter(kind=FiscalPeriod.Kind.MONTH).order_by("start_date"))
    split = [[m for m in months if q.start_date <= m.start_date <= q.end_date] for q in quarters]

    def days(start: dt.date, end: dt.date) -> int:
        return (end - start).days + 1

    for quarter, inside in zip(quarters, split, strict=True):
        if inside and (sum(days(m.start_date, m.end_date) for m in inside) != days(quarter.start_date, quarter.end_date)
                       or max(m.end_date for m in inside) != quarter.end_date):
            raise ValidationError(f"{year.name} {quarter.name}'s months do not cover it exactly, so its quota cannot "
                                  "be split over them: fix the months on the fiscal calendar page.")
    return split


@transaction.atomic
def quotas_plan_save(
    *, user, fiscal_year: FiscalYear, target: Decimal, weights: dict[str, int], overrides: dict[int, Decimal]
) -> quota_page.QuotaTable:
    """Spread ``target`` over the territories ``user`` plans in ``fiscal_year`` and save each one's
    quarterly and monthly quotas (full amount, the holder and the holder's ramp factor for the
    period; a quarter's months add up to it exactly, and its quarters to the year). The
    figures are computed here, never taken from the browser; a total that does not add up to the
    target (the territories', or any territory's quarters) is refused and nothing is written."""
    year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    inputs = quota_page.quota_inputs(user=user, year=year)
    if inputs.plan is None or not inputs.leaves:
        raise ValidationError("There are no territories for you to plan in this year’s plan.")
    if len(inputs.quarters) != 4:
        raise ValidationError(f"{year.name} needs its four quarters before quotas can be split over them: add them "
                              "on the fiscal calendar page.")
    try:
        spread = quotas.spread(target=target, rows=[leaf.metrics for leaf in inputs.leaves], weights=weights,
                               overrides=overrides)
    except quotas.QuotaError as exc:
        raise ValidationError(str(exc)) from exc
    table = quota_page.quota_table(inputs, spread, overrides)
    leaf_rows = [r for r in table.rows if r.is_leaf]
    if sum((r.amount for r in leaf_rows), Decimal(0)) != target or any(
        sum(r.per_quarter, Decimal(0)) != r.amount for r in leaf_rows
    ):
        raise ValidationError(f"The quotas do not add up to the target {target:,.2f}; nothing was saved.")
    months = _months_by_quarter(year, inputs.quarters)
    existing = {(q.territory_id, q.period_id): q for q in Quota.objects.select_for_update().filter(
        territory_id__in=[r.territory.pk for r in leaf_rows],
        period__in=[*inputs.quarters, *(m for ms in months for m in ms)])}
    leaves = {leaf.territory.pk: leaf for leaf in inputs.leaves}
    new, changed = [], []
    for row in leaf_rows:
        leaf = leaves[row.territory.pk]
        wanted: list[tuple[FiscalPeriod, dict]] = []
        for i, period in enumerate(inputs.quarters):
            holder = leaf.holders[i]
            wanted.append((period, {"amount": row.per_quarter[i], "ramp_factor": leaf.ramp[i],
                                    "user_id": holder.user_id}))
            # The quarter's quota over its months, exact to the cent; each month ramps on its own middle.
            parts = quotas.split(row.per_quarter[i], len(months[i])) if months[i] else []
            for month, amount in zip(months[i], parts, strict=True):
                middle = month.start_date + (month.end_date - month.start_date) / 2
                wanted.append((month, {"amount": amount, "ramp_factor": holder.ramp_on(middle),
                                       "user_id": holder.user_id}))
        for period, values in wanted:
            quota = existing.get((row.territory.pk, period.pk))
            if quota is None:
                new.append(Quota(territory_id=row.territory.pk, period=period, **values))
            elif any(getattr(quota, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(quota, k, v)
                changed.append(quota)
    reason = f"Quota plan {year.name}: target {target:,.2f}"
    if new:
        bulk_create_with_history(new, Quota, default_user=user, default_change_reason=reason)
    if changed:
        bulk_update_with_history(changed, Quota, ["amount", "ramp_factor", "user"], default_user=user,
                                 default_change_reason=reason)
    return table


@transaction.atomic
def reassignment_settings_update(
    *,
    admin_rule_edits: str,
    deal_policy: str,
    deal_stage: str,
    transition_days: int,
    reminder_days: int,
    escalation_days: int,
    notice_subject: str,
    notice_body: str,
) -> ReassignmentSettings:
    """Save the organisation's reassignment defaults and customer notice template. A template
    that would not render, or an escalation that comes before the reminder, is refused."""
    settings = ReassignmentSettings.objects.select_for_update().filter(pk=1).first() or ReassignmentSettings.load()
    settings.admin_rule_edits = admin_rule_edits
    settings.deal_policy = deal_policy
    settings.deal_stage = deal_stage
    settings.transition_days = transition_days
    settings.reminder_days = reminder_days
    settings.escalation_days = escalation_days
    settings.notice_subject = notice_subject.strip()
    settings.notice_body = notice_body
    problems = notice_template_errors(subject=settings.notice_subject, body=notice_body)
    if escalation_days <= reminder_days:
        problems.setdefault("escalation_days", []).append(
            "Escalate after the reminder: choose more days than the reminder's."
        )
    if transition_days > 365:
        problems.setdefault("transition_days", []).append("A transition window lasts at most 365 days.")
    if problems:
        raise ValidationError(problems)
    settings.full_clean()
    settings.save()
    return settings


@transaction.atomic
def rebalance_review_notify(*, today: dt.date | None = None) -> int:
    """The quarterly rebalancing review: run the optimiser over the active plan (everything an
    admin plans, at the settings' tolerance) and tell every admin what it suggests, with a link to
    the page. Returns how many admins were told (none without an active plan or an admin)."""
    plan = TerritoryPlan.active()
    admins = list(User.objects.filter(Q(is_superuser=True) | Q(sales_profile__role=Role.ADMIN), is_active=True)
                  .distinct().order_by("pk"))
    if plan is None or not admins:
        return 0
    tolerance = float(PlanningSettings.load().balance_tolerance_percent) / 100
    run = rebalance.rebalance_run(user=admins[0], plan=plan, metrics=("workload",), tolerance=tolerance)
    r = run.result
    if r.suggestions:
        title = (f"Rebalancing: {len(r.suggestions)} suggested move{'s' if len(r.suggestions) != 1 else ''} of "
                 f"{r.moved_accounts:,} accounts")
        body = (f"The largest deviation from the average workload would fall from {r.max_deviation_pct_before:.1f}% "
                f"to {r.max_deviation_pct:.1f}% (tolerance {tolerance * 100:.1f}%).")
    else:
        title = "Rebalancing: no moves needed"
        body = f"Every territory is within {tolerance * 100:.1f}% of the average workload, or nothing may move."
    Notification.objects.bulk_create([
        Notification(user=u, kind=Notification.Kind.INFO, title=title, body=body,
                     url=f"{reverse('planning:rebalance')}?tolerance={tolerance * 100:.2f}")
        for u in admins
    ])
    return len(admins)
