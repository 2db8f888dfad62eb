"""What the core announces to the apps above it (DESIGN "Dependency direction"): the core never
imports a higher layer; an app that must react connects a receiver in its ``AppConfig.ready``.

* ``org_chart_changed(users=[user ids])``: a sales profile's manager or role changed, or a
  profile was deleted; ``territories`` re-materialises those users' permission grants.
"""

from __future__ import annotations

from django.dispatch import Signal

org_chart_changed = Signal()
