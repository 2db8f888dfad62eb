"""The whole stack under load: 50 users on gunicorn + PostgreSQL + the task workers (scripts/load.sh).

Four kinds of user, in fixed numbers (LOAD_REPS, LOAD_MANAGERS, LOAD_ADMINS, LOAD_API_CLIENTS):

* reps open home, their accounts list, account pages, and log activities there;
* managers open the territory tree, territory pages and the approvals inbox;
* admins open a territory's editor, preview rules in the builder (as the page does on each
  change), and now and then save a priority change, which queues a scoped re-route;
* API clients route leads (POST /api/v1/route and /api/v1/leads) at LOAD_API_RATE per second
  between them.

Every user starts signed in as a demo user (a session made by ``load_support prepare``, as a
sign-in leaves it, so 45 deliberately slow password hashes do not land in the measured window).
A response that is not the one
the page gives a signed-in user (a redirect to the login page, any 4xx or 5xx, a missing form) is a
failure. At the end one JSON line is printed (``LOAD_RESULT``): users, seconds, requests, errors,
``page_p95_ms`` per page and ``api_p99_ms``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from html.parser import HTMLParser
from typing import Any

from locust import HttpUser, between, constant_throughput, events, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"], encoding="utf-8").read())  # noqa: PTH123, SIM115
API_CLIENTS = int(os.environ.get("LOAD_API_CLIENTS", "5"))
API_RATE = float(os.environ.get("LOAD_API_RATE", "20"))
ADMIN_SAVE_EVERY_S = float(os.environ.get("LOAD_ADMIN_SAVE_EVERY", "60"))
THINK = (float(os.environ.get("LOAD_THINK_MIN", "2")), float(os.environ.get("LOAD_THINK_MAX", "6")))
API_NAMES = ("api route", "api leads")
_ACCOUNT_LINK = re.compile(r'href="/accounts/(\d+)/"')
_TERRITORY_LINK = re.compile(r'href="/territories/(\d+)/"')


class FormFields(HTMLParser):
    """The fields a browser would post for the form with ``form_id``: named inputs (checked boxes
    only), selected options and textareas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


class Person(HttpUser):
    """A signed-in user of the pages: each takes the next session ``load_support prepare`` made."""

    abstract = True
    wait_time = between(*THINK)
    pool: list[list[str]] = []
    taken = 0

    def on_start(self) -> None:
        cls = type(self)
        self.username, key = cls.pool[cls.taken % len(cls.pool)]
        cls.taken += 1
        self.client.cookies.set(FIXTURE["session_cookie"], key)

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def page(self, url: str, name: str, *, must: str = "") -> str:
        """GET a page as a browser would; anything but a 200 with ``must`` in it fails."""
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")
            elif must and must not in response.text:
                response.failure(f"{url} lacks {must!r}")
            return response.text if response.status_code == 200 else ""

    def post(self, url: str, name: str, data: Any, *, htmx: bool = False, expect: tuple[int, ...] = (200,)) -> str:
        headers = {"X-CSRFToken": self.csrf(), "Referer": self.host + url}
        if htmx:
            headers["HX-Request"] = "true"
        with self.client.post(url, name=name, data=data, headers=headers, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code} for POST {url}")
            return response.text


class Rep(Person):
    """Home, their accounts, an account's page, and now and then an activity logged there."""

    pool = FIXTURE["reps"]

    def on_start(self) -> None:
        super().on_start()
        self.accounts: list[str] = []
        self.home()

    @task(3)
    def home(self) -> None:
        self.page("/", "home")

    @task(3)
    def accounts_list(self) -> None:
        html = self.page(f"/accounts/?page={random.randint(1, 3)}", "accounts")
        self.accounts = _ACCOUNT_LINK.findall(html) or self.accounts

    @task(4)
    def account_page(self) -> None:
        if not self.accounts:
            self.accounts_list()
        if self.accounts:
            self.page(f"/accounts/{random.choice(self.accounts)}/", "account", must="activities")

    @task(2)
    def log_activity(self) -> None:
        if not self.accounts:
            self.accounts_list()
        if self.accounts:
            pk = random.choice(self.accounts)
            self.post(f"/accounts/{pk}/activities/", "activity", htmx=True,
                      data={"kind": random.choice(["call", "email", "meeting"]), "note": "Load test: followed up."})


class Manager(Person):
    """The tree, territory pages and the approvals inbox."""

    pool = FIXTURE["managers"]

    def on_start(self) -> None:
        super().on_start()
        self.territories: list[str] = []
        self.tree()

    @task(3)
    def tree(self) -> None:
        html = self.page("/territories/", "tree")
        self.territories = _TERRITORY_LINK.findall(html) or self.territories

    @task(4)
    def territory(self) -> None:
        if not self.territories:
            self.tree()
        if self.territories:
            self.page(f"/territories/{random.choice(self.territories)}/", "territory")

    @task(2)
    def approvals(self) -> None:
        self.page("/approvals/", "approvals")


class Admin(Person):
    """Rule previews in the builder, and a priority change saved about every
    ADMIN_SAVE_EVERY_S seconds (each admin on its own territory)."""

    pool = FIXTURE["admins"]
    territories = list(FIXTURE["admin_territories"])

    def on_start(self) -> None:
        super().on_start()
        self.territory = Admin.territories[(Admin.taken - 1) % len(Admin.territories)]
        self.next_save = time.monotonic() + random.uniform(0.3, 1.0) * ADMIN_SAVE_EVERY_S

    @task
    def edit_and_preview(self) -> None:
        url = f"/territories/{self.territory}/edit/"
        html = self.page(url, "builder page", must='id="territory-form"')
        fields = form_fields(html, "territory-form")
        if not fields:
            return
        self.post("/territories/builder/preview/", "builder preview", fields, htmx=True)
        if time.monotonic() >= self.next_save:
            self.next_save = time.monotonic() + ADMIN_SAVE_EVERY_S
            priority = next((int(v) for k, v in fields if k == "priority" and v.lstrip("-").isdigit()), 0)
            changed = [(k, str(priority + 1 if priority % 2 == 0 else priority - 1) if k == "priority" else v)
                       for k, v in fields]
            # A save answers with a redirect to the territory page; a refused one with 422 and the form.
            self.post(url, "territory save", changed, expect=(302,))


class ApiClient(HttpUser):
    """A system routing leads with an integration key; the clients together send API_RATE a second."""

    wait_time = constant_throughput(API_RATE / max(API_CLIENTS, 1))

    def on_start(self) -> None:
        self.client.headers.update({"Authorization": f"Bearer {FIXTURE['api_key']}"})

    @task(3)
    def route(self) -> None:
        self._call("/api/v1/route", "api route", 200)

    @task(1)
    def lead(self) -> None:
        self._call("/api/v1/leads", "api leads", 201)

    def _call(self, url: str, name: str, expect: int) -> None:
        body = dict(random.choice(FIXTURE["api_records"]))
        with self.client.post(url, name=name, json=body, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}: {response.text[:200]}")


Rep.fixed_count = int(os.environ.get("LOAD_REPS", "28"))
Manager.fixed_count = int(os.environ.get("LOAD_MANAGERS", "12"))
Admin.fixed_count = int(os.environ.get("LOAD_ADMINS", "5"))
ApiClient.fixed_count = API_CLIENTS


@events.quitting.add_listener
def report(environment, **_: Any) -> None:
    """One JSON line with the figures the targets are set on."""
    stats = environment.stats
    pages = {}
    for (name, _method), entry in sorted(stats.entries.items()):
        if name not in API_NAMES and entry.num_requests:
            pages[name] = round(entry.get_response_time_percentile(0.95), 1)
    api = [e for (name, _m), e in stats.entries.items() if name in API_NAMES and e.num_requests]
    api_p99 = None
    if api:
        merged = api[0].__class__(stats, "api", "POST")
        for entry in api:
            merged.extend(entry)
        api_p99 = round(merged.get_response_time_percentile(0.99), 1)
    total = stats.total
    seconds = round((total.last_request_timestamp or 0) - (total.start_time or 0), 1)
    figures = {
        "users": environment.parsed_options.num_users if environment.parsed_options else None,
        "seconds": seconds,
        "requests": total.num_requests,
        "errors": total.num_failures,
        "page_p95_ms": pages,
        "api_p99_ms": api_p99,
        "api_requests_per_s": round(sum(e.num_requests for e in api) / seconds, 1) if seconds else None,
        "api_p99_ms_by_endpoint": {e.name: round(e.get_response_time_percentile(0.99), 1) for e in api},
        "errors_by_kind": {f"{e.method} {e.name}: {e.error}"[:160]: e.occurrences for e in stats.errors.values()},
    }
    print("LOAD_RESULT " + json.dumps(figures), flush=True)  # noqa: T201
