"""The rule builder's form encoding: the posted fields <-> the builder's node tree <-> the rule.

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

from django.http import QueryDict

from routing.engine import FIELDS, MAX_VALUES, OPERATORS, Field, RuleError, validate
from salesos.http import parse_id
from territories.rules_text import rule_names

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


def carry_values(node: Node, *, built_for: str) -> None:
    """A condition row re-rendered after its field or operator changed (``built_for``: the field
    it was rendered for): a new field gets its usual operator and an empty value; a new operator
    on the same field carries the values over where the widget allows."""
    field = node.field_obj
    if field is None:
        node.op, node.values, node.text = "", [], ""
    elif node.field != built_for or node.op not in field.operators:
        node.op = DEFAULT_OP.get(node.field, next(iter(sorted(field.operators))))
        node.values, node.text, node.lo, node.hi = [], "", "", ""
    elif node.widget in ("chips",) and node.text:
        node.values = _dedupe([*node.values, *_LIST_SPLIT.split(node.text)])
        node.text = ""
    elif node.widget in ("bulk", "list", "numbers") and node.values and not node.text:
        node.text = ", ".join(node.values)


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
