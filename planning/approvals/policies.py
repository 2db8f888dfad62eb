"""Writing approval policies (the admin's policy page): create, save a policy with all its steps
at once (validated as a whole: nothing is written when any part is wrong), reorder, delete.

Reading the posted page into ``PolicyInput`` is ``planning/forms_policies.py``; here every write
re-checks what it relies on, so a service call from elsewhere cannot store a bad policy either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from planning.approvals.conditions import condition_errors
from planning.models import ApprovalPolicy, ApprovalPolicyStep, Reassignment, Subject

User = get_user_model()
Relation = ApprovalPolicyStep.Relation
NAME_MAX = 120


class PolicyError(Exception):
    """``messages``: field -> messages (``"general"`` for the policy as a whole)."""

    def __init__(self, messages: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for texts in messages.values() for m in texts))
        self.messages = messages


@dataclass(frozen=True)
class StepInput:
    name: str
    relation: str
    mode: str
    user_id: int | None = None
    condition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInput:
    name: str
    description: str
    kinds: list[str]
    condition: dict[str, Any]
    is_active: bool
    allow_admin_self_approval: bool
    steps: list[StepInput]


def _last_active_guard(policy: ApprovalPolicy, *, leaving: bool) -> list[str]:
    others = ApprovalPolicy.objects.filter(subject=policy.subject, is_active=True).exclude(pk=policy.pk)
    if leaving and policy.is_active and policy.subject == Subject.REASSIGNMENT and not others.exists():
        return [
            "Keep at least one active policy for reassignment proposals: without one, no proposal would "
            "need any approval."
        ]
    return []


def policy_input_errors(data: PolicyInput, *, policy: ApprovalPolicy | None = None) -> dict[str, list[str]]:
    """Every problem with ``data`` by field (``name``, ``kinds``, ``condition``, ``step-N``)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    name = data.name.strip()
    if not name:
        add("name", "Give the policy a name.")
    elif len(name) > NAME_MAX:
        add("name", f"Keep the name under {NAME_MAX} characters.")
    elif ApprovalPolicy.objects.filter(name=name).exclude(pk=policy.pk if policy is not None else 0).exists():
        add("name", f"Another policy is called “{name}”.")
    kinds = dict(Reassignment.Kind.choices)
    for kind in data.kinds:
        if kind not in kinds:
            add("kinds", f"“{kind}” is not a kind of change.")
    for message in condition_errors(data.condition):
        add("condition", message)
    users = set(
        User.objects.filter(pk__in=[s.user_id for s in data.steps if s.user_id], is_active=True).values_list(
            "pk", flat=True
        )
    )
    for number, step in enumerate(data.steps, 1):
        key = f"step-{number}"
        if step.relation not in Relation.values:
            add(key, "Choose who approves this step.")
        if step.mode not in ApprovalPolicyStep.Mode.values:
            add(key, "Choose whether all of them or any one approves.")
        if step.relation == Relation.NAMED_USER and step.user_id not in users:
            add(key, "Choose the person who approves this step.")
        if len(step.name) > NAME_MAX:
            add(key, f"Keep the step name under {NAME_MAX} characters.")
        for message in condition_errors(step.condition):
            add(key, message)
    if policy is not None and not data.is_active:
        for message in _last_active_guard(policy, leaving=True):
            add("is_active", message)
    return errors


@transaction.atomic
def approval_policy_create(*, by, name: str, subject: str = Subject.REASSIGNMENT) -> ApprovalPolicy:
    """A new, inactive policy without steps, placed before the others (the admin then fills it in
    and switches it on)."""
    name = name.strip()
    problems: dict[str, list[str]] = {}
    if subject not in Subject.values:
        problems["subject"] = ["Choose what the policy approves."]
    if not name:
        problems["name"] = ["Give the policy a name."]
    elif len(name) > NAME_MAX:
        problems["name"] = [f"Keep the name under {NAME_MAX} characters."]
    elif ApprovalPolicy.objects.filter(name=name).exists():
        problems["name"] = [f"Another policy is called “{name}”."]
    if problems:
        raise PolicyError(problems)
    first = ApprovalPolicy.objects.filter(subject=subject).order_by("order").values_list("order", flat=True).first()
    return ApprovalPolicy.objects.create(name=name, subject=subject, is_active=False, order=max((first or 10) - 1, 0))


@transaction.atomic
def approval_policy_save(*, by, policy: ApprovalPolicy, data: PolicyInput) -> ApprovalPolicy:
    """Saves the policy and replaces its steps with ``data.steps`` in their order. Raises
    ``PolicyError`` (nothing written) when any part is invalid."""
    policy = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
    errors = policy_input_errors(data, policy=policy)
    if errors:
        raise PolicyError(errors)
    policy.name = data.name.strip()
    policy.description = data.description.strip()
    policy.kinds = sorted(set(data.kinds))
    policy.condition = data.condition or {}
    policy.is_active = data.is_active
    policy.allow_admin_self_approval = data.allow_admin_self_approval
    policy.save()
    policy.steps.all().delete()
    ApprovalPolicyStep.objects.bulk_create(
        ApprovalPolicyStep(
            policy=policy,
            order=number,
            name=step.name.strip(),
            relation=step.relation,
            user_id=step.user_id if step.relation == Relation.NAMED_USER else None,
            mode=step.mode,
            condition=step.condition or {},
        )
        for number, step in enumerate(data.steps, 1)
    )
    return policy


@transaction.atomic
def approval_policy_move(*, by, policy: ApprovalPolicy, direction: str) -> None:
    """Moves the policy one place up or down among its subject's policies (the order in which
    they are tried); renumbers them 10, 20, 30..."""
    if direction not in ("up", "down"):
        raise PolicyError({"general": ["Move a policy up or down."]})
    ordered = list(
        ApprovalPolicy.objects.select_for_update().filter(subject=policy.subject).order_by("order", "name", "id")
    )
    index = next(i for i, p in enumerate(ordered) if p.pk == policy.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for number, row in enumerate(ordered, 1):
        ApprovalPolicy.objects.filter(pk=row.pk).update(order=number * 10)


@transaction.atomic
def approval_policy_delete(*, by, policy: ApprovalPolicy) -> None:
    """Deletes a policy (decisions taken under it keep their record). The last active policy for
    reassignments stays: without one nothing would need approval."""
    policy = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
    problems = _last_active_guard(policy, leaving=True)
    if problems:
        raise PolicyError({"general": problems})
    policy.delete()
