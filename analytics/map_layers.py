"""The boundary layer's life: drawn by a task, read by every request.

Drawing a plan's territories (``analytics.geo.boundaries_build``) takes seconds at a large plan, so
no request does it. When a plan changes (``territories.hooks.plan_changed``, connected in
``analytics.receivers``) or a request finds no layer for the plan's current version, a
``MapLayer`` row is asked for once (its ``key`` is unique) and the django-q2 task
``analytics.tasks.map_layer_build`` draws it. Until it is ready the map shows the plan's previous
layer, labelled as being redrawn, or, for a plan never drawn, an empty layer labelled as being
drawn; the page polls until the layer is ready. Each web process holds the ready layer, keyed by
plan version, so a request reads the database once per version.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from analytics.geo import CACHE_SECONDS, BoundaryLayer, boundaries_build, boundaries_cache_key
from analytics.map_table import point_table
from analytics.models import MapLayer
from territories.models import TerritoryPlan

BUILD_TASK = "analytics.tasks.map_layer_build"
WAIT_SECONDS = 5  # how long a process shows a stale or missing layer before asking the database again
RETRY_AFTER = dt.timedelta(minutes=1)  # a failed drawing is tried again after this
Status = MapLayer.Status


@dataclass(frozen=True)
class LayerState:
    """What the map says about its boundaries: ``ready``, ``stale`` (the previous version shown
    while the current one is drawn), ``building`` (nothing drawn yet) or ``failed``."""

    state: str
    built_at: dt.datetime | None = None

    def to_json(self) -> dict:
        return {"state": self.state, "built_at": self.built_at.isoformat() if self.built_at else None}


def _rows(layer: BoundaryLayer) -> list[list]:
    return [[pk, layer.depth[pk], layer.kind[pk], layer.leaf[pk], text] for pk, text in layer.features.items()]


def _layer(rows: list[list]) -> BoundaryLayer:
    layer = BoundaryLayer({}, {}, {}, {}, 0)
    for pk, depth, kind, leaf, text in rows:
        layer.features[pk] = text
        layer.depth[pk] = depth
        layer.kind[pk] = kind
        layer.leaf[pk] = leaf
        layer.max_depth = max(layer.max_depth, depth)
    return layer


def _enqueue(layer_id: int) -> None:
    if settings.Q_CLUSTER.get("sync"):
        # Tasks run inline (tests, a single-process setup): draw it now, in this transaction.
        async_task(BUILD_TASK, layer_id)
        return
    # A worker gets it once the row it reads is committed.
    transaction.on_commit(lambda: async_task(BUILD_TASK, layer_id, task_name=f"map-layer-{layer_id}"))


def map_layer_request(*, plan: TerritoryPlan) -> MapLayer:
    """The layer row of the plan's current version, asking for its drawing once (again after a
    failure older than ``RETRY_AFTER``)."""
    layer, created = MapLayer.objects.get_or_create(key=boundaries_cache_key(plan), defaults={"plan": plan})
    if created:
        _enqueue(layer.pk)
    elif layer.status == Status.FAILED and layer.requested_at < timezone.now() - RETRY_AFTER:
        MapLayer.objects.filter(pk=layer.pk).update(status=Status.BUILDING, requested_at=timezone.now())
        _enqueue(layer.pk)
    return layer


def map_layer_build(*, layer_id: int) -> str:
    """Draws the layer row ``layer_id`` asked for (the task's one call). A request for a version
    the plan has moved past is dropped: the newer version has its own."""
    layer = MapLayer.objects.select_related("plan").filter(pk=layer_id).first()
    if layer is None or layer.status == Status.READY:
        return "nothing to do"
    plan = layer.plan
    if boundaries_cache_key(plan) != layer.key:
        MapLayer.objects.filter(pk=layer.pk).update(status=Status.FAILED, error="The plan changed again first.")
        return "superseded"
    started = time.perf_counter()
    try:
        drawn = boundaries_build(plan, point_table(plan))
    except Exception as exc:
        MapLayer.objects.filter(pk=layer.pk).update(status=Status.FAILED, error=str(exc)[:2000])
        raise
    MapLayer.objects.filter(pk=layer.pk).update(
        status=Status.READY,
        features=_rows(drawn),
        built_at=timezone.now(),
        build_seconds=round(time.perf_counter() - started, 3),
        error="",
    )
    # The older versions of this plan are of no more use once this one is ready.
    MapLayer.objects.filter(plan=plan, requested_at__lt=layer.requested_at).exclude(pk=layer.pk).delete()
    return "ready"


Answer = tuple[BoundaryLayer, LayerState]
# key -> (answer, until when it holds): the layers this process has read, without unpickling a
# megabyte from a cache backend on every request.
_held: dict[str, tuple[Answer, float]] = {}
HELD_MAX = 8


def _hold(key: str, answer: Answer, seconds: float) -> Answer:
    if len(_held) >= HELD_MAX:
        _held.pop(next(iter(_held)))
    _held[key] = (answer, time.monotonic() + seconds)
    return answer


def map_layers_forget() -> None:
    """Forget the layers and bodies this process holds (tests)."""
    _held.clear()
    _bodies.clear()


def boundaries_current(plan: TerritoryPlan) -> Answer:
    """The plan's layer for its current version and its state (see the module doc)."""
    key = boundaries_cache_key(plan)
    found = _held.get(key)
    if found is not None and found[1] > time.monotonic():
        return found[0]
    row = MapLayer.objects.filter(key=key).first()
    if row is not None and row.status == Status.READY:
        return _hold(key, (_layer(row.features), LayerState("ready", row.built_at)), CACHE_SECONDS)
    row = map_layer_request(plan=plan)
    row.refresh_from_db(fields=["status", "features", "built_at"])
    if row.status == Status.READY:  # drawn inline just now
        return _hold(key, (_layer(row.features), LayerState("ready", row.built_at)), CACHE_SECONDS)
    previous = MapLayer.objects.filter(plan=plan, status=Status.READY).exclude(pk=row.pk).order_by("-built_at").first()
    if previous is not None:
        answer = (_layer(previous.features), LayerState("stale", previous.built_at))
    else:
        answer = (BoundaryLayer({}, {}, {}, {}, 0), LayerState("failed" if row.status == Status.FAILED else "building"))
    return _hold(key, answer, WAIT_SECONDS)


@dataclass(frozen=True)
class LayerBody:
    """A boundary answer as sent: the GeoJSON bytes, their gzip and an ETag of the content."""

    raw: bytes
    gzipped: bytes
    etag: str


def _body(text: str) -> LayerBody:
    raw = text.encode()
    # Level 6: a tenth of the megabyte layer, once per selection and process.
    return LayerBody(
        raw, gzip.compress(raw, compresslevel=6, mtime=0), '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    )


# (layer object, territory ids, state) -> its body; the layer is kept in the value so its id is
# not reused while the entry lives.
_bodies: dict[tuple, tuple[BoundaryLayer, LayerBody]] = {}
BODIES_MAX = 32


def layer_body(layer: BoundaryLayer, ids: list[int], state: LayerState) -> LayerBody:
    """The feature collection of ``ids`` from ``layer``, joined and compressed once per process:
    a request for a selection already sent costs a dictionary lookup, not a megabyte of text."""
    key = (id(layer), tuple(ids), state.state, state.built_at)
    found = _bodies.get(key)
    if found is not None and found[0] is layer:
        return found[1]
    body = _body(layer.feature_collection(ids, state.to_json()))
    if len(_bodies) >= BODIES_MAX:
        _bodies.pop(next(iter(_bodies)))
    _bodies[key] = (layer, body)
    return body


def layer_body_empty() -> LayerBody:
    return _body('{"type":"FeatureCollection","layer":' + json.dumps(LayerState("ready").to_json()) + ',"features":[]}')
