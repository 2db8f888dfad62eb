"""Territory forms and the rule builder's form encoding.

The rule builder posts plain form fields, one set per node, parsed into the rule dict here and
validated by ``routing.engine.validate`` (never trusted from the browser):

    node=<id>                 once per node, in document order (the root group first)
    n-<id>-parent=<id>        the enclosing group ("" for the root)
    n-<id>-kind=group|cond
    n-<id>-join=all|any       groups: every member / at least one must hold
    n-<id>-field, n-<id>-op   conditions
    n-<id>-v=<value>          repeated: chips (codes picked from a search)
    n-<id>-text=<text>        one value, a number, or a pasted list (split on commas, spaces,
                              newlines; de-duplicated; postal codes checked for format)
    n-<id>-lo, n-<id>-hi      "between"
    n-<id>-q=<text>           a chip search box: text typed but not yet added still counts

Ids are opaque tokens made by the server when a row is added, so rows can be added and removed
in any order without renumbering. Each node remembers the path it got in the rule dict
(``all[2].any[0]``), which is how an engine ``Problem`` finds the row to show its message beside.
A condition row with no field chosen is a blank row and is ignored.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict

from routing.engine import FIELDS, MAX_VALUES, OPERATORS, Field, RuleError, validate
from salesos.http import parse_id
from salesos.models import Account, GeoArea, Industry, Region
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.rules_text import rule_names

User = get_user_model()

MAX_NODES = 400  # rows and groups per rule: far above any real rule, keeps a crafted post cheap
MAX_NAMED = 5000  # accounts on one named list, per post
# Fields a territory form may post (``salesos.form_fields``): up to nine per builder row plus its
# chips, for twice the row limit so a rule past it gets its message rather than a bare 400, the
# named list, and the form's own fields.
MAX_FORM_FIELDS = 2 * MAX_NODES * 9 + MAX_VALUES + MAX_NAMED + 200
FIELD_GROUPS = (
    ("Geography", ("country", "region", "state", "metro", "city", "postal_code")),
    ("Company", ("industry", "employees", "annual_revenue")),
    ("Account", ("name", "domain")),
)
DEFAULT_OP = {
    "country": "in", "region": "in", "state": "in", "metro": "in", "city": "in", "postal_code": "prefix",
    "industry": "in", "employees": "gte", "annual_revenue": "gte", "name": "in", "domain": "eq",
}
PICKER_KINDS = frozenset({"country", "region", "state", "metro", "industry", "account"})
_POSTAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
_BULK_SPLIT = re.compile(r"[\s,;]+")
_LIST_SPLIT = re.compile(r"[,;\n\r]+")
_MONEY_RE = re.compile(r"^\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([kKmMbB]?)$")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9}


def new_id() -> str:
    return secrets.token_hex(4)


def widget_of(field: Field | None, op: str) -> str:
    """Which value widget a condition row shows."""
    if field is None or not op:
        return "none"
    operator = OPERATORS.get(op)
    arity = operator.arity if operator else "one"
    if arity == "flag":
        return "flag"
    if field.type in ("integer", "money"):
        return {"pair": "pair", "many": "numbers"}.get(arity, "number")
    if field.choices == "postal":
        return "text" if arity == "one" else "bulk"
    if field.choices in PICKER_KINDS:
        return "pick" if arity == "one" else "chips"
    return "text" if arity == "one" else "list"


@dataclass
class Node:
    id: str
    kind: str  # "group" | "cond"
    parent: str = ""
    join: str = "all"
    children: list[Node] = dc_field(default_factory=list)
    field: str = ""
    op: str = ""
    values: list[str] = dc_field(default_factory=list)
    text: str = ""
    lo: str = ""
    hi: str = ""
    errors: list[str] = dc_field(default_factory=list)
    path: str | None = None  # where this node sits in the built rule (None: not part of it)
    labels: dict[str, str] = dc_field(default_factory=dict)  # chip value -> shown name

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def field_obj(self) -> Field | None:
        return FIELDS.get(self.field)

    @property
    def operators(self) -> list[tuple[str, str]]:
        f = self.field_obj
        if f is None:
            return []
        return [(name, op.label) for name, op in OPERATORS.items() if name in f.operators]

    @property
    def widget(self) -> str:
        return widget_of(self.field_obj, self.op)

    @property
    def chips(self) -> list[tuple[str, str]]:
        return [(v, self.labels.get(v, v)) for v in self.values]

    @property
    def bulk_count(self) -> int:
        return len(_dedupe(_BULK_SPLIT.split(self.text)))

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        item = item.strip()
        if item and item.upper() not in seen:
            seen.add(item.upper())
            out.append(item)
    return out


def field_groups() -> list[tuple[str, list[Field]]]:
    return [(label, [FIELDS[name] for name in names if name in FIELDS]) for label, names in FIELD_GROUPS]


# --- parsing the posted builder ----------------------------------------------------------------


def node_from_post(data: QueryDict | Mapping[str, Any], node_id: str, *, include_typed: bool = True) -> Node:
    def get(key: str) -> str:
        value = data.get(f"n-{node_id}-{key}", "")
        return value if isinstance(value, str) else ""

    getlist: Callable[[str], list[Any]] = data.getlist if hasattr(data, "getlist") else (lambda k: [])
    values = [v for v in getlist(f"n-{node_id}-v") if v.strip()]
    typed = get("q").strip() if include_typed else ""
    if typed:
        values.append(typed)
    return Node(
        id=node_id,
        kind="group" if get("kind") == "group" else "cond",
        parent=get("parent"),
        join="any" if get("join") == "any" else "all",
        field=get("field") if get("field") in FIELDS else "",
        op=get("op") if get("op") in OPERATORS else "",
        values=_dedupe(values),
        text=get("text"),
        lo=get("lo"),
        hi=get("hi"),
    )


def node_ids(data: QueryDict) -> list[str]:
    return [i for i in dict.fromkeys(data.getlist("node")) if re.fullmatch(r"[A-Za-z0-9_-]{1,32}", i)]


def tree_from_post(data: QueryDict, *, include_typed: bool = True) -> Node:
    """The builder's node tree from a post. A malformed tree (unknown parents, loops, too many
    nodes) degrades to what can be attached to the root: nothing from the browser is trusted."""
    ids = node_ids(data)[:MAX_NODES]
    nodes = {i: node_from_post(data, i, include_typed=include_typed) for i in ids}
    root = next((n for n in nodes.values() if n.is_group and not n.parent), None)
    if root is None:
        root = Node(id=new_id(), kind="group")
    for node in nodes.values():
        if node is root:
            continue
        parent = nodes.get(node.parent)
        if parent is None or not parent.is_group or parent is node:
            parent = root
        parent.children.append(node)
    # Drop anything not reachable from the root (a loop between two groups).
    reachable = {n.id for n in root.walk()}
    if len(reachable) < len(nodes):
        for n in root.walk():
            n.children = [c for c in n.children if c.id in reachable]
    return root


def _money_text(text: str) -> str:
    """"$10M", "2.5k", "1,000,000" -> "10000000"... anything else is passed on for the engine
    to reject with its own message."""
    m = _MONEY_RE.match(text.strip())
    if not m:
        return text.strip()
    try:
        amount = Decimal(m.group(1).replace(",", "")) * _UNITS[m.group(2).lower()]
    except InvalidOperation:
        return text.strip()
    return format(amount.normalize(), "f")


def _number_text(field: Field, text: str) -> str:
    return _money_text(text) if field.type == "money" else text.strip().replace(",", "").replace("_", "")


def _condition_value(node: Node) -> tuple[Any, list[str]]:
    """The rule value of a condition row and any problems found before the engine sees it."""
    f = node.field_obj
    assert f is not None
    widget = node.widget
    if widget == "flag":
        return node.text != "false", []
    if widget == "pair":
        return [_number_text(f, node.lo), _number_text(f, node.hi)], []
    if widget == "number":
        return _number_text(f, node.text), []
    if widget == "numbers":
        return [_number_text(f, v) for v in _dedupe(_BULK_SPLIT.split(node.text))], []
    if widget == "chips":
        return list(node.values), []
    if widget == "bulk":
        items = _dedupe(_BULK_SPLIT.split(node.text))
        bad = [i for i in items if not _POSTAL_RE.match(i)]
        if bad:
            shown = ", ".join(f"“{b}”" for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            return items, [f"Not a postal code: {shown} (letters, digits and '-', at most 16 characters)"]
        return items, []
    if widget == "list":
        return _dedupe(_LIST_SPLIT.split(node.text)), []
    if widget == "pick" and not node.text.strip() and node.values:
        return node.values[0], []
    return node.text.strip(), []


def rule_from_tree(root: Node) -> tuple[dict, dict[str, list[str]]]:
    """The rule dict the tree describes (before engine validation), each node's ``path`` set,
    and problems found while reading values (by node id)."""
    problems: dict[str, list[str]] = {}

    def build(node: Node, path: str) -> dict | None:
        node.path = path
        if node.is_group:
            members: list[dict] = []
            here = f"{path}.{node.join}" if path else node.join
            for child in node.children:
                built = build(child, f"{here}[{len(members)}]")
                if built is not None:
                    members.append(built)
            return {node.join: members}
        if not node.field:
            node.path = None
            return None  # a blank row
        condition: dict[str, Any] = {"field": node.field, "op": node.op}
        if node.op:
            value, local = _condition_value(node)
            condition["value"] = value
            if local:
                problems[node.id] = local
        return condition

    rule = build(root, "") or {}
    return rule, problems


_PATH_TAIL = re.compile(r"^(.*?)(\.[a-z_]+|\[\d+\])$")


def attach_problems(root: Node, problems: list[Any], local: Mapping[str, list[str]] | None = None) -> None:
    """Puts each engine problem (and each local one) on the row it belongs to."""
    by_path = {n.path: n for n in root.walk() if n.path is not None}
    by_id = {n.id: n for n in root.walk()}
    for node_id, messages in (local or {}).items():
        if node_id in by_id:
            by_id[node_id].errors.extend(messages)
    for problem in problems:
        path = problem.path
        while path not in by_path and path:
            m = _PATH_TAIL.match(path)
            path = m.group(1) if m else ""
        owner = by_path.get(path, root)
        if problem.message not in owner.errors:
            owner.errors.append(problem.message)


@dataclass
class ParsedRule:
    tree: Node
    rule: dict | None  # the validated, normalised rule; None when there are problems
    problem_count: int


def parse_rule(data: QueryDict, *, include_typed: bool = True, labels: bool = True) -> ParsedRule:
    """The builder's post as a validated rule, with every problem on its row. ``include_typed``:
    text left in a chip search box counts as a value (on save; the live preview ignores it)."""
    tree = tree_from_post(data, include_typed=include_typed)
    raw, local = rule_from_tree(tree)
    problems: list[Any] = []
    rule = None
    try:
        rule = validate(raw)
    except RuleError as exc:
        problems = exc.problems
    attach_problems(tree, problems, local)
    posted = len(node_ids(data))
    if posted > MAX_NODES:
        tree.errors.append(
            f"A rule may hold at most {MAX_NODES} conditions and groups; this one has {posted}. Put a list of "
            "values in one condition (a pasted list counts once), or split the rule into child territories."
        )
    count = sum(len(n.errors) for n in tree.walk())
    if labels:
        label_chips(tree)
    return ParsedRule(tree=tree, rule=rule if count == 0 else None, problem_count=count)


# --- rendering a stored rule -------------------------------------------------------------------


def blank_condition(parent: str) -> Node:
    return Node(id=new_id(), kind="cond", parent=parent)


def tree_from_rule(rule: Any) -> Node:
    """Builder nodes for a stored rule. The root is always a group; an empty rule shows one
    blank row to start from."""

    def convert(item: Any, parent: str) -> Node:
        if isinstance(item, Mapping) and ("all" in item or "any" in item):
            join = "all" if "all" in item else "any"
            group = Node(id=new_id(), kind="group", parent=parent, join=join)
            group.children = [convert(m, group.id) for m in item[join] or []]
            return group
        node = Node(id=new_id(), kind="cond", parent=parent, field=str(item.get("field", "")),
                    op=str(item.get("op", "")))
        value = item.get("value")
        widget = node.widget
        if widget == "flag":
            node.text = "true" if value else "false"
        elif widget == "pair" and isinstance(value, list) and len(value) == 2:
            node.lo, node.hi = str(value[0]), str(value[1])
        elif widget == "chips":
            node.values = [str(v) for v in (value if isinstance(value, list) else [value])]
        elif isinstance(value, list):
            node.text = "\n".join(str(v) for v in value) if widget == "list" else ", ".join(str(v) for v in value)
        elif value is not None:
            node.text = str(value)
        return node

    if not isinstance(rule, Mapping) or not rule:
        root = Node(id=new_id(), kind="group")
        root.children = [blank_condition(root.id)]
    elif "all" in rule or "any" in rule:
        root = convert(rule, "")
    else:
        root = Node(id=new_id(), kind="group")
        root.children = [convert(rule, root.id)]
    label_chips(root)
    return root


def label_chips(root: Node) -> None:
    """Names for chips (California for US-CA, Health care for 62): one bulk lookup."""
    rules = [
        {"field": n.field, "op": "in", "value": n.values}
        for n in root.walk()
        if not n.is_group and n.values and n.field in ("industry", "country", "state")
    ]
    if not rules:
        return
    names = rule_names(rules)
    for n in root.walk():
        if n.values and n.field in ("industry", "country", "state", "region"):
            table = names.get(n.field, {})
            n.labels = {v: f"{table[v.upper() if n.field != 'industry' else v]}"
                        for v in n.values if (v.upper() if n.field != "industry" else v) in table}


# --- picker search and chip resolution ----------------------------------------------------------

SEARCH_LIMIT = 20


def picker_options(
    *, kind: str, q: str, parents: QuerySet[Territory] | None = None, accounts: QuerySet[Account] | None = None
) -> list[tuple[str, str]]:
    """(value, label) pairs for a picker's search box: codes with names, at most 20, indexed
    lookups only. ``accounts`` and ``parents``: what the user may see and pick from (the view
    scopes them: ``territories.access``); accounts default to all, parents to none."""
    q = q.strip()
    if kind == "region":
        return [(r.value, r.label) for r in Region if not q or q.lower() in f"{r.value} {r.label}".lower()]
    if kind in ("country", "state", "metro"):
        areas = GeoArea.objects.filter(level=kind)
        if q:
            areas = areas.filter(Q(code__istartswith=q) | Q(name__istartswith=q) | Q(name__icontains=f" {q}"))
        rows = areas.order_by("-population", "name").values_list("code", "name", "country")[:SEARCH_LIMIT]
        if kind == "metro":
            return [(name, f"{name}{f' ({country})' if country else ''}") for _code, name, country in rows]
        return [(code, name) for code, name, _country in rows]
    if kind == "industry":
        industries = Industry.objects.all()
        if q:
            industries = industries.filter(Q(code__startswith=q) | Q(title__icontains=q))
        return [(code, f"{code} · {title}") for code, title in
                industries.order_by("code").values_list("code", "title").distinct()[:SEARCH_LIMIT]]
    if kind in ("account", "named"):
        accounts = Account.objects.all() if accounts is None else accounts
        if q:
            accounts = accounts.filter(name__icontains=q)
        account_rows = accounts.order_by("name").values_list("pk", "name", "city")[:SEARCH_LIMIT]
        if kind == "account":
            return [(name, f"{name}{f' · {city}' if city else ''}") for _pk, name, city in account_rows]
        return [(f"{name} #{pk}", f"{city}" if city else name) for pk, name, city in account_rows]
    if kind == "parent" and parents is not None:
        territories = parents
        if q:
            territories = territories.filter(Q(code__istartswith=q) | Q(name__icontains=q))
        return [(code, name) for code, name in territories.order_by("code").values_list("code", "name")[:SEARCH_LIMIT]]
    return []


_ACCOUNT_ID = re.compile(r"#(\d+)\s*$")


def resolve_chip(*, kind: str, q: str, accounts: QuerySet[Account] | None = None) -> tuple[str, str] | None:
    """The (value, label) a typed or picked search text stands for: an exact code, an exact
    name, or the only name starting with it. Unknown text is kept as typed (upper-cased for
    codes) for the engine to judge, except for named accounts, which must exist."""
    q = q.strip()
    if not q:
        return None
    if kind == "named":
        pool = Account.objects.all() if accounts is None else accounts
        m = _ACCOUNT_ID.search(q)
        account = pool.filter(pk=int(m.group(1))).first() if m else None
        if account is None:
            matches = list(pool.filter(name__iexact=q)[:2]) or list(pool.filter(name__istartswith=q)[:2])
            account = matches[0] if len(matches) == 1 else None
        return (str(account.pk), account.name) if account else None
    if kind == "region":
        for r in Region:
            if q.upper() in (r.value, r.label.upper()):
                return r.value, r.label
        return q.upper(), q.upper()
    if kind in ("country", "state"):
        areas = GeoArea.objects.filter(level=kind)
        hit = (areas.filter(code__iexact=q).first() or areas.filter(name__iexact=q).first())
        if hit is None:
            starts = list(areas.filter(name__istartswith=q)[:2])
            hit = starts[0] if len(starts) == 1 else None
        return (hit.code, hit.name) if hit else (q.upper(), q.upper())
    if kind == "industry":
        code = q.split("·")[0].strip()
        industry = Industry.objects.filter(code=code).first() or Industry.objects.filter(title__iexact=q).first()
        return (industry.code, industry.title) if industry else (code, code)
    if kind == "metro":
        hit = GeoArea.objects.filter(level="metro").filter(Q(name__iexact=q) | Q(code__iexact=q)).first()
        return (hit.name, hit.name) if hit else (q, q)
    return q, q


# --- the territory form ------------------------------------------------------------------------


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "sales_profile", None)
        role = f" · {profile.get_role_display()}" if profile else ""
        return f"{obj.get_full_name() or obj.username}{role}"


def _reps_queryset():
    return (
        User.objects.filter(is_active=True, sales_profile__isnull=False)
        .select_related("sales_profile")
        .order_by("first_name", "last_name", "username")
    )


OVERLAY_ROWS = 3


class TerritoryForm(forms.Form):
    """Name, description, type, parent and the finer settings; on create also the reps. The rule
    and the named-account list come from the builder fields (``parse_rule``, ``named`` ids)."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    type = forms.ChoiceField(choices=Territory.Type.choices, initial=Territory.Type.GEOGRAPHIC)
    parent = forms.CharField(required=False, max_length=40, help_text="Code of the parent territory")
    code = forms.CharField(required=False, max_length=40, help_text="Left blank, made from the name")
    priority = forms.IntegerField(initial=0, min_value=-1000, max_value=1000)
    is_overlay = forms.BooleanField(required=False)
    credit_percent = forms.IntegerField(initial=100, min_value=0, max_value=100)
    lead_assignment = forms.ChoiceField(choices=Territory.LeadAssignment.choices,
                                        initial=Territory.LeadAssignment.PRIMARY)
    # The territory's version when the edit form was opened (territory_update refuses a stale one).
    version = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, plan: TerritoryPlan, territory: Territory | None = None,
                 with_reps: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plan, self.territory, self.with_reps = plan, territory, with_reps
        self.fields["lead_assignment"].widget.attrs["class"] = "form-select"
        if with_reps:
            self.fields["primary"] = RepChoiceField(_reps_queryset(), required=False, empty_label="— Vacant —")
            self.fields["backup"] = RepChoiceField(_reps_queryset(), required=False, empty_label="— None —")
            for i in range(OVERLAY_ROWS):
                self.fields[f"overlay_{i}"] = RepChoiceField(_reps_queryset(), required=False, empty_label="—")
                self.fields[f"overlay_{i}_split"] = forms.IntegerField(required=False, min_value=0, max_value=100)
            for name in ("primary", "backup", *(f"overlay_{i}" for i in range(OVERLAY_ROWS))):
                self.fields[name].widget.attrs["class"] = "form-select"

    @property
    def overlay_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"overlay_{i}"], self[f"overlay_{i}_split"]) for i in range(OVERLAY_ROWS)]

    def clean_version(self) -> int | None:
        """The version the edit was made against; None when none was posted (no check). A value
        that is no version is one no territory has: the save is refused as made against another
        version, with that message."""
        raw = (self.cleaned_data.get("version") or "").strip()
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) <= 9 else -1

    def clean_parent(self) -> Territory | None:
        code = (self.cleaned_data.get("parent") or "").strip()
        if not code:
            return None
        parent = Territory.objects.filter(plan=self.plan, code__iexact=code).first()
        if parent is None:
            raise forms.ValidationError(f"No territory {code} in {self.plan}.")
        if self.territory is not None and parent.ancestors(include_self=True).filter(pk=self.territory.pk).exists():
            raise forms.ValidationError("A territory cannot sit inside itself or its own children.")
        return parent

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if not self.with_reps:
            return data
        if data is None:  # Form.clean() returns cleaned_data; the stubs allow None for overrides
            raise TypeError("Form.clean() returned None")
        reps: list[dict[str, Any]] = []
        people: dict[tuple[int, str], str] = {}

        def add(user: Any, slot: str, split: int | None, key: str) -> None:
            if (user.pk, slot) in people:
                self.add_error(key, f"{user.get_full_name() or user.username} is already an {slot} here.")
                return
            people[(user.pk, slot)] = key
            reps.append({"user": user, "slot": slot, "split_percent": split})

        if data.get("primary"):
            add(data["primary"], RepAssignment.Slot.PRIMARY, 100, "primary")
        total = 0
        for i in range(OVERLAY_ROWS):
            user, split = data.get(f"overlay_{i}"), data.get(f"overlay_{i}_split")
            if user is None:
                continue
            if split is None:
                self.add_error(f"overlay_{i}_split", "Give the overlay's split percent.")
                continue
            total += split
            add(user, RepAssignment.Slot.OVERLAY, split, f"overlay_{i}")
        if total > 100:
            self.add_error(None, f"Overlay splits add up to {total}%: at most 100%.")
        if data.get("backup"):
            if data.get("primary") and data["backup"].pk == data["primary"].pk:
                self.add_error("backup", "The backup must be someone other than the primary.")
            else:
                add(data["backup"], RepAssignment.Slot.BACKUP, 0, "backup")
        data["reps"] = reps
        return data

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {k: d[k] for k in ("name", "description", "type", "priority", "is_overlay", "credit_percent",
                                  "lead_assignment")}
        data["parent"] = d.get("parent")
        if d.get("code"):
            data["code"] = d["code"].strip()
        if self.with_reps:
            data["reps"] = d.get("reps", [])
        return data


def named_ids_from_post(data: QueryDict) -> list[int]:
    ids = (parse_id(v) for v in data.getlist("named"))
    return [i for i in ids if i is not None][:MAX_NAMED]


def named_id_error(data: QueryDict) -> str | None:
    """The message for a posted named-account value that is not an account id (text, a sign,
    or past the database's integer range), or None when every value is one."""
    bad = sum(1 for v in data.getlist("named") if parse_id(v) is None)
    if not bad:
        return None
    return (f"{bad} of the named accounts {'is' if bad == 1 else 'are'} not an account id: "
            "add accounts with the search box.")


def named_chips(ids: list[int], accounts: QuerySet[Account] | None = None) -> list[tuple[str, str]]:
    """(id, name) of the listed accounts, only of ``accounts`` when given (the ones the user may
    see): a posted id never reveals the name of an account outside it."""
    names = dict((accounts if accounts is not None else Account.objects).filter(pk__in=ids).values_list("pk", "name"))
    return [(str(i), names[i]) for i in ids if i in names]
