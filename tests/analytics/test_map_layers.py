"""The boundary layer is drawn by a task, not by a request: a plan change asks for the new
version's drawing, and until it is ready the map shows the previous layer, labelled."""

from __future__ import annotations

import gzip
import json

from analytics import map_layers
from analytics.geo import boundaries_cache_key
from analytics.map_layers import boundaries_current, map_layer_build
from analytics.models import MapLayer
from territories.services import territory_update_rule
from tests.analytics import test_map

# The hand-made geography of the map's tests (two square states, a ZIP, accounts at known places).
geo = test_map.geo
fresh_caches = test_map.fresh_caches


def boundaries(client, user) -> dict:
    client.force_login(user)
    response = client.get("/map/boundaries.json?level=all")
    assert response.status_code == 200
    return json.loads(response.content)


def test_a_first_view_draws_the_layer_and_a_later_one_reads_it(geo, client):
    body = boundaries(client, geo.admin)
    assert body["layer"]["state"] == "ready" and {f["properties"]["code"] for f in body["features"]} >= {"W", "E"}
    stored = MapLayer.objects.get(plan=geo.plan)
    assert stored.status == MapLayer.Status.READY and stored.key == boundaries_cache_key(geo.plan)
    map_layers.map_layers_forget()
    assert boundaries(client, geo.admin)["features"] == body["features"]  # read back from the row
    assert MapLayer.objects.filter(plan=geo.plan).count() == 1


def test_a_rule_change_asks_for_a_redraw_and_the_previous_layer_shows_meanwhile(geo, client, monkeypatch):
    before = boundaries(client, geo.admin)
    west = next(f for f in before["features"] if f["properties"]["code"] == "W")
    asked: list[int] = []
    monkeypatch.setattr(map_layers, "_enqueue", asked.append)  # a worker that has not run yet
    territory_update_rule(
        territory=geo.west, rule={"field": "state", "op": "in", "value": ["US-AA", "US-BB"]}, by=geo.admin
    )
    geo.plan.refresh_from_db()
    pending = MapLayer.objects.get(key=boundaries_cache_key(geo.plan))
    assert asked == [pending.pk] and pending.status == MapLayer.Status.BUILDING  # asked by the plan change
    meanwhile = boundaries(client, geo.admin)
    assert meanwhile["layer"]["state"] == "stale"
    assert next(f for f in meanwhile["features"] if f["properties"]["code"] == "W") == west
    assert asked == [pending.pk]  # the request did not ask again

    assert map_layer_build(layer_id=pending.pk) == "ready"
    map_layers.map_layers_forget()
    after = boundaries(client, geo.admin)
    assert after["layer"]["state"] == "ready"
    redrawn = next(f for f in after["features"] if f["properties"]["code"] == "W")
    assert redrawn["geometry"] != west["geometry"]  # now both states
    assert list(MapLayer.objects.filter(plan=geo.plan).values_list("pk", flat=True)) == [pending.pk]


def test_a_plan_never_drawn_shows_an_empty_layer_being_drawn(geo, client, monkeypatch):
    monkeypatch.setattr(map_layers, "_enqueue", lambda pk: None)
    body = boundaries(client, geo.admin)
    assert body["layer"]["state"] == "building" and body["features"] == []


def test_a_drawing_for_a_version_the_plan_moved_past_is_dropped(geo, monkeypatch):
    monkeypatch.setattr(map_layers, "_enqueue", lambda pk: None)
    boundaries_current(geo.plan)
    old = MapLayer.objects.get(plan=geo.plan)
    territory_update_rule(territory=geo.east, rule={"field": "state", "op": "in", "value": ["US-AA"]}, by=geo.admin)
    assert map_layer_build(layer_id=old.pk) == "superseded"
    assert MapLayer.objects.get(pk=old.pk).status == MapLayer.Status.FAILED


def test_a_rep_gets_only_their_part_of_the_stored_layer(geo, client):
    boundaries(client, geo.admin)
    codes = {f["properties"]["code"] for f in boundaries(client, geo.rep)["features"]}
    assert codes == {"W"}


def test_the_layer_is_sent_compressed_once_and_then_answered_by_its_etag(geo, client):
    client.force_login(geo.admin)
    plain = client.get("/map/boundaries.json?level=all")
    etag = plain["ETag"]
    assert etag and "no-cache" in plain["Cache-Control"] and "private" in plain["Cache-Control"]
    packed = client.get("/map/boundaries.json?level=all", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed["Content-Encoding"] == "gzip" and packed["ETag"] == etag
    assert gzip.decompress(packed.content) == plain.content and len(packed.content) < len(plain.content)
    again = client.get("/map/boundaries.json?level=all", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    # Another selection is another body: a rep's part does not answer to the admin's ETag.
    client.force_login(geo.rep)
    theirs = client.get("/map/boundaries.json?level=all", headers={"If-None-Match": etag})
    assert theirs.status_code == 200 and theirs["ETag"] != etag
    assert {f["properties"]["code"] for f in json.loads(theirs.content)["features"]} == {"W"}
    # A new drawing of the plan changes the ETag.
    client.force_login(geo.admin)
    territory_update_rule(
        territory=geo.west, rule={"field": "state", "op": "in", "value": ["US-AA", "US-BB"]}, by=geo.admin
    )
    map_layers.map_layers_forget()
    redrawn = client.get("/map/boundaries.json?level=all", headers={"If-None-Match": etag})
    assert redrawn.status_code == 200 and redrawn["ETag"] != etag
