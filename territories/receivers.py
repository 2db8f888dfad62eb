"""What territories does when the core announces a change (``salesos.hooks``), connected in
``TerritoriesConfig.ready``: an org-chart change re-materialises the people's grants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from salesos import hooks
from territories.grants import grants_sync


def grants_on_org_change(*, users: Sequence[int], **_: Any) -> None:
    grants_sync(users=list(users))


def connect() -> None:
    hooks.org_chart_changed.connect(grants_on_org_change, dispatch_uid="territories.grants_on_org_change")
