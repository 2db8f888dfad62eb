"""Customer notices: an email per moved account with a primary contact, rendered on submit from
the organisation's editable template (``ReassignmentSettings``; plain text, so no HTML escaping)
and queued for the effective date; ``daily`` sends them. The settings page checks and previews
the template with the same rendering (``notice_template_errors``, ``notice_sample``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template import Context, Template, TemplateDoesNotExist, TemplateSyntaxError

from planning.models import CustomerNotice, Reassignment, ReassignmentSettings
from planning.reassignments.impact import NEW_TERRITORY, Impact
from salesos.models import Account
from territories.models import Territory
from territories.placement import current_primary_rows

User = get_user_model()
Kind = Reassignment.Kind


def notice_context(reassignment: Reassignment, *, account: Account, new_owner: str, old_owner: str,
                   territory: str) -> Context:
    return Context(
        {
            "company": settings.SALESOS_COMPANY_NAME,
            "contact_name": account.contact_name or "customer",
            "account": account.name,
            "new_owner": new_owner,
            "old_owner": old_owner,
            "territory": territory,
            "effective_date": reassignment.effective_date.strftime("%-d %B %Y"),
        },
        autoescape=False,  # plain-text email: no HTML escaping of names
    )


def notices_queue(reassignment: Reassignment, impact: Impact) -> int:
    """One email per moved account with a primary contact, rendered now from the settings'
    template, sent on the effective date."""
    reassignment.notices.filter(status=CustomerNotice.Status.QUEUED).delete()
    if not reassignment.notify_customers:
        return 0
    defaults = ReassignmentSettings.load()
    subject_t, body_t = Template(defaults.notice_subject), Template(defaults.notice_body)
    to_of = dict(zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True))
    from_of = dict(zip(impact.account_ids.tolist(), impact.from_ids.tolist(), strict=True))
    if reassignment.kind == Kind.SLOT_CHANGE:
        territory_id = int(reassignment.change["territory"])
        accounts_ids = {d.account_id for d in impact.deals} | set(
            current_primary_rows(reassignment.plan_id).filter(territory_id=territory_id)
            .values_list("account_id", flat=True))
        to_of = dict.fromkeys(accounts_ids, territory_id)
        from_of = dict(to_of)
    owners = {**{t: impact.owners_after.get(t) for t in set(to_of.values())}}
    people = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(
        pk__in=[*[o for o in owners.values() if o], *[o for o in impact.owners_before.values() if o]])}
    names = dict(Territory.objects.filter(pk__in=set(to_of.values()) | set(from_of.values())).values_list("pk",
                                                                                                        "name"))
    names[NEW_TERRITORY] = (reassignment.change or {}).get("name", "")
    notices = []
    accounts = Account.objects.filter(pk__in=list(to_of)).exclude(contact_email="")
    for account in accounts.iterator():
        t = to_of[account.pk]
        context = notice_context(
            reassignment, account=account, new_owner=people.get(owners.get(t) or 0, "your new account team"),
            old_owner=people.get(impact.owners_before.get(from_of.get(account.pk, 0)) or 0, ""),
            territory=names.get(t, ""))
        notices.append(CustomerNotice(
            reassignment=reassignment, account=account, to_email=account.contact_email,
            subject=" ".join(subject_t.render(context).split())[:200], body=body_t.render(context),
            send_on=reassignment.effective_date))
    CustomerNotice.objects.bulk_create(notices, batch_size=1000)
    return len(notices)


# --- the settings page: checking and previewing the template ------------------------------------

VARIABLES = ("company", "account", "contact_name", "effective_date", "old_owner", "new_owner", "territory")


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    body: str


def notice_render(*, subject: str, body: str, context: Context) -> RenderedNotice:
    """One notice from the template texts, as ``notices_queue`` renders it (subject on one line).
    Raises ``TemplateSyntaxError`` or ``TemplateDoesNotExist`` for a template that cannot render."""
    # Template.render marks its output safe; a notice is plain text, so the pages that show it
    # must escape it like any other text: plain strings, not SafeStrings.
    return RenderedNotice(
        subject=" ".join(Template(subject).render(context).split())[:200],
        body="".join([Template(body).render(context)]),
    )


def notice_sample(*, subject: str, body: str, on: dt.date) -> RenderedNotice:
    """The notice a customer would read, with sample names: the settings page's preview."""
    sample = Reassignment(effective_date=on)
    account = Account(name="Acme Robotics", contact_name="Dana Whitfield")
    context = notice_context(sample, account=account, new_owner="Priya Natarajan", old_owner="Sam Ortiz",
                             territory="West Coast Enterprise")
    return notice_render(subject=subject, body=body, context=context)


def notice_template_errors(*, subject: str, body: str) -> dict[str, list[str]]:
    """field -> messages for a notice template that would not render (checked by rendering the
    sample, so tags that fail only when rendered are caught too)."""
    problems: dict[str, list[str]] = {}
    if "\n" in subject.strip():
        problems.setdefault("notice_subject", []).append("The subject must be one line.")
    for name, text in (("notice_subject", subject), ("notice_body", body)):
        try:
            notice_sample(subject=text, body="", on=dt.date(2026, 1, 1))
        except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
            problems.setdefault(name, []).append(f"The template does not render: {exc}")
    return problems
