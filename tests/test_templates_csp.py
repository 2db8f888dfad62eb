"""The Content-Security-Policy forbids inline script and style: no template may carry any.

Every template under templates/ (and any app's templates/) is scanned for inline <script> and
<style> blocks, style="" attributes, on*= event handlers, hx-on attributes, javascript: URLs and
htmx trigger filters (htmx evaluates those with eval, which the policy refuses too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]

CHECKS = {
    "inline <script> (put it in static/js/)": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "<style> block (put it in static/css/)": re.compile(r"<style\b", re.I),
    'style="" attribute (use a class, or data-* read by static/js/salesos.js)': re.compile(r"\sstyle\s*=", re.I),
    "on*= event handler (listen in static/js/)": re.compile(r"\son[a-z]+\s*=\s*[\"'{]", re.I),
    "hx-on attribute (listen in static/js/)": re.compile(r"\bhx-on\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "js: value for htmx (needs eval)": re.compile(r"hx-va(ls|rs)\s*=\s*[\"']\s*(js|javascript):", re.I),
    "htmx trigger filter [..] (needs eval)": re.compile(r"hx-trigger\s*=\s*\"(?:[^\"]*,)?\s*[\w:.-]+\[", re.I),
}


def _templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS if d.is_dir() for p in d.rglob("*.html"))


def _findings(text: str) -> list[str]:
    found = []
    for what, pattern in CHECKS.items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {what}: {match.group(0)[:60]!r}")
    return found


def test_templates_are_found():
    names = {p.name for p in _templates()}
    assert {"base.html", "404.html", "styles.html", "index.html"} <= names


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_script_or_style_in_templates(path):
    findings = _findings(path.read_text())
    assert not findings, f"{path.relative_to(ROOT)}:\n" + "\n".join(findings)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="module">x()</script>',
        "<style>.a{}</style>",
        '<div style="width: 3%">',
        '<select onchange="this.form.submit()">',
        '<a hx-on:click="go()">',
        '<a href="javascript:go()">',
        '<div hx-trigger="click[ctrlKey]">',
        '<div hx-trigger="load, change[!x] from:#f">',
    ],
)
def test_the_scan_catches_each_kind(snippet):
    assert _findings(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/salesos.js" defer></script>',
        '<div data-width="3" class="progress-bar">',
        '<form hx-trigger="submit, input changed delay:400ms from:find input[type=search]">',
        "<p>Routed on the first of the month.</p>",
    ],
)
def test_the_scan_lets_the_allowed_forms_through(snippet):
    assert not _findings(snippet)


def test_pages_send_the_policy_and_permissions_policy(client, db):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"] and directives["object-src"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
