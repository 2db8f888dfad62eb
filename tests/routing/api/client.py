"""What the lead-routing API tests share: the paths, a token maker and a JSON POST."""

from __future__ import annotations

import json

from django.test import Client

from routing.models import IntegrationToken

ROUTE = "/api/v1/route"
LEADS = "/api/v1/leads"
HEALTH = {"all": [{"field": "industry", "op": "in", "value": ["62"]}]}


def make_token(name: str = "CRM", **kw) -> tuple[IntegrationToken, str]:
    token = IntegrationToken(name=name, **kw)
    key = token.issue_key()
    token.save()
    return token, key



def post(client: Client, url: str, body, key: str | None = None, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    if key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.generic("POST", url, data, content_type="application/json", **extra)
