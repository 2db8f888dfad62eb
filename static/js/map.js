/* The territory map: renders what the server sends (boundaries, clusters, heat, white space, rep
   locations). Every figure and every cluster is computed on the server; this file only draws. */
(function () {
  "use strict";

  const el = document.getElementById("map");
  if (!el || typeof L === "undefined") return;
  const ds = el.dataset;
  const form = document.getElementById("map-filters");
  const statusBox = document.getElementById("map-status");
  const legendBox = document.getElementById("map-legend");
  const cardBox = document.getElementById("map-card");

  const map = L.map(el, {
    center: [parseFloat(ds.centerLat) || 39.5, parseFloat(ds.centerLon) || -98.35],
    zoom: parseInt(ds.zoom, 10) || 4,
    minZoom: 2,
    maxZoom: 18,
    worldCopyJump: false,
    preferCanvas: false,
  });
  if (ds.tilesUrl) {
    L.tileLayer(ds.tilesUrl, { attribution: ds.tilesAttribution || "", maxZoom: 18 }).addTo(map);
  } else {
    el.classList.add("map-blank");
  }

  // Panes keep the drawing order whatever loads first: base, heat, white space, territories, pins.
  [["base", 300], ["heat", 350], ["whitespace", 360], ["pins", 450]].forEach(([name, z]) => {
    map.createPane(name).style.zIndex = String(z);
  });
  const layers = {
    base: L.layerGroup().addTo(map),
    heat: L.layerGroup().addTo(map),
    whitespace: L.layerGroup().addTo(map),
    boundaries: L.layerGroup().addTo(map),
    points: L.layerGroup().addTo(map),
    reps: L.layerGroup().addTo(map),
  };
  const colours = {}; // territory id -> colour, from the boundary layer
  const counts = { boundaries: 0, clusters: 0, pins: 0, heat: 0, whitespace: 0, reps: 0 };

  function filterParams() {
    const params = new URLSearchParams(new FormData(form));
    return params;
  }

  function viewParams() {
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(5)).join(",");
    const params = filterParams();
    params.set("bbox", bbox);
    params.set("zoom", String(map.getZoom()));
    return params;
  }

  function enabled(name) {
    const box = document.querySelector(`[data-layer="${name}"]`);
    return box ? box.checked : false;
  }

  function publish() {
    for (const [key, value] of Object.entries(counts)) el.dataset[key + "Count"] = String(value);
    const parts = [];
    if (enabled("boundaries")) parts.push(`${counts.boundaries} territories`);
    if (enabled("points")) parts.push(`${counts.clusters} clusters, ${counts.pins} accounts`);
    if (enabled("heat")) parts.push(`${counts.heat} heat areas`);
    if (enabled("whitespace")) parts.push(`${counts.whitespace} white-space areas`);
    if (enabled("reps")) parts.push(`${counts.reps} reps`);
    if (layerNote) parts.push(layerNote);
    statusBox.textContent = parts.join(" · ") || "No layer selected";
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) {
      let message = `The map could not load (${response.status}).`;
      try {
        const body = await response.json();
        if (body.error) message = body.error;
      } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  }

  function fail(err) {
    statusBox.textContent = err.message;
    statusBox.classList.add("map-status-error");
  }

  // --- cards ------------------------------------------------------------------------------
  async function showCard(template, id) {
    const url = template.replace("/0/", `/${id}/`);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    cardBox.innerHTML = await response.text(); // server-rendered, auto-escaped partial
    cardBox.hidden = false;
  }
  cardBox.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-card]")) cardBox.hidden = true;
  });

  // --- the blank base: country and state outlines (only without tiles) ---------------------
  async function loadBase() {
    if (ds.tilesUrl) return;
    const data = await getJSON(ds.baseUrl);
    L.geoJSON(data, {
      pane: "base",
      interactive: false,
      style: (f) => (f.properties.level === "country"
        ? { color: "#9aa9bb", weight: 0.8, fillColor: "#f7f9fb", fillOpacity: 1 }
        : { color: "#b8c4d2", weight: 0.6, fill: false }),
    }).addTo(layers.base);
  }

  // --- boundaries -------------------------------------------------------------------------
  // The layer is drawn by a background task after a plan change: until it is ready the server
  // sends the previous drawing ("stale") or none ("building"), and the map asks again.
  const LAYER_NOTES = {
    stale: "boundaries are being redrawn for the latest plan changes",
    building: "boundaries are being drawn",
    failed: "the boundaries could not be drawn; retrying",
  };
  let layerNote = "";
  let layerTimer = null;

  async function loadBoundaries() {
    clearTimeout(layerTimer);
    layers.boundaries.clearLayers();
    counts.boundaries = 0;
    if (!enabled("boundaries")) return publish();
    const data = await getJSON(`${ds.boundariesUrl}?${filterParams()}`);
    const layer = L.geoJSON(data, {
      style: (f) => ({ color: f.properties.color, weight: 2, fillColor: f.properties.color, fillOpacity: 0.18 }),
      onEachFeature: (f, lyr) => {
        colours[f.properties.id] = f.properties.color;
        lyr.bindTooltip(f.properties.name, { sticky: true });
        lyr.on("click", () => showCard(ds.territoryCardUrl, f.properties.id));
      },
    });
    layer.addTo(layers.boundaries);
    counts.boundaries = data.features.length;
    const state = data.layer ? data.layer.state : "ready";
    el.dataset.boundariesState = state;
    layerNote = LAYER_NOTES[state] || "";
    if (layerNote) layerTimer = setTimeout(() => loadBoundaries().catch(fail), state === "failed" ? 30000 : 3000);
    publish();
  }

  // --- clusters and pins ------------------------------------------------------------------
  function clusterIcon(count) {
    const size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : count < 10000 ? 48 : 56;
    const label = count >= 10000 ? `${Math.round(count / 1000)}k` : count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
    const tier = size <= 30 ? "s" : size <= 42 ? "m" : "l";
    return L.divIcon({ className: `map-cluster map-cluster-${tier}`, html: `<span>${label}</span>`, iconSize: [size, size] });
  }

  async function loadPoints() {
    if (!enabled("points")) {
      layers.points.clearLayers();
      counts.clusters = counts.pins = 0;
      return publish();
    }
    const data = await getJSON(`${ds.pointsUrl}?${viewParams()}`);
    layers.points.clearLayers();
    for (const [lon, lat, count] of data.clusters) {
      const marker = L.marker([lat, lon], { icon: clusterIcon(count), title: `${count} accounts`, keyboard: true });
      marker.on("click", () => map.setView([lat, lon], Math.min(map.getZoom() + 2, 18)));
      marker.addTo(layers.points);
    }
    for (const [id, lon, lat, territory] of data.pins) {
      const colour = territory === null ? "#6b7280" : (colours[territory] || "#2459c9");
      const pin = L.circleMarker([lat, lon], { pane: "pins", radius: 6, color: "#ffffff", weight: 1.5, fillColor: colour, fillOpacity: 0.95 });
      pin.on("click", () => showCard(ds.accountCardUrl, id));
      pin.addTo(layers.points);
    }
    counts.clusters = data.clusters.length;
    counts.pins = data.pins.length;
    publish();
  }

  // --- heat and white space ----------------------------------------------------------------
  function renderLegend(legends) {
    legendBox.replaceChildren();
    const shown = legends.filter((l) => l && l.colors && l.colors.length);
    legendBox.hidden = shown.length === 0;
    const money = (v) => (v >= 1e9 ? `$${(v / 1e9).toFixed(1)}B` : v >= 1e6 ? `$${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `$${(v / 1e3).toFixed(0)}k` : `$${v.toFixed(0)}`);
    for (const legend of shown) {
      const title = document.createElement("div");
      title.className = "map-legend-title";
      title.textContent = legend.white_space ? `White space · ${legend.label}` : legend.label;
      legendBox.appendChild(title);
      if (legend.period) title.textContent += ` · ${legend.period}`;
      const fmt = legend.metric === "accounts" ? (v) => Math.round(v).toLocaleString()
        : legend.metric === "attainment" ? (v) => `${Math.round(v)}%` : money;
      legend.colors.forEach((colour, i) => {
        const row = document.createElement("div");
        row.className = "map-legend-row";
        const swatch = document.createElement("span");
        swatch.className = "map-swatch";
        swatch.style.background = colour;
        const text = document.createElement("span");
        const low = i === 0 ? null : legend.breaks[i - 1];
        const high = i < legend.breaks.length ? legend.breaks[i] : null;
        text.textContent = low === null ? `up to ${fmt(high === null ? 0 : high)}` : high === null ? `over ${fmt(low)}` : `${fmt(low)} – ${fmt(high)}`;
        if (low === null && high === null) text.textContent = "all areas";
        row.append(swatch, text);
        legendBox.appendChild(row);
      });
      if (legend.missing) {
        const row = document.createElement("div");
        row.className = "map-legend-row";
        const swatch = document.createElement("span");
        swatch.className = "map-swatch";
        swatch.style.background = legend.missing;
        const text = document.createElement("span");
        text.textContent = "no quota in the period";
        row.append(swatch, text);
        legendBox.appendChild(row);
      }
    }
  }

  const legends = { heat: null, whitespace: null };

  async function loadHeat(name) {
    const group = layers[name];
    if (!enabled(name)) {
      group.clearLayers();
      counts[name] = 0;
      legends[name] = null;
      renderLegend(Object.values(legends));
      return publish();
    }
    const params = viewParams();
    params.set("metric", name === "whitespace" ? "accounts" : document.getElementById("heat-metric").value);
    params.set("area", document.getElementById("heat-level").value);
    if (name === "whitespace") params.set("white_space", "on");
    const data = await getJSON(`${ds.heatUrl}?${params}`);
    group.clearLayers();
    const colors = data.legend ? data.legend.colors : [];
    const missing = (data.legend && data.legend.missing) || "#ccc";
    const percent = data.legend && data.legend.metric === "attainment";
    L.geoJSON(data, {
      pane: name,
      style: (f) => ({ color: name === "whitespace" ? "#54278f" : "#7f2704", weight: name === "whitespace" ? 1.5 : 0.6,
        dashArray: name === "whitespace" ? "4 3" : null, fillColor: colors[f.properties.class] || missing, fillOpacity: 0.65 }),
      onEachFeature: (f, lyr) => {
        const label = f.properties.name || f.properties.code;
        const value = f.properties.value === null ? "no quota"
          : percent ? `${f.properties.value}% of quota` : Number(f.properties.value).toLocaleString();
        lyr.bindTooltip(`${label}: ${value} (${f.properties.accounts.toLocaleString()} accounts)`, { sticky: true });
      },
    }).addTo(group);
    counts[name] = data.features.length;
    legends[name] = data.legend;
    renderLegend(Object.values(legends));
    publish();
  }

  // --- rep locations ------------------------------------------------------------------------
  async function loadReps() {
    layers.reps.clearLayers();
    counts.reps = 0;
    if (!enabled("reps")) return publish();
    const data = await getJSON(ds.repsUrl);
    for (const rep of data.reps) {
      const marker = L.marker([rep.lat, rep.lon], {
        icon: L.divIcon({ className: "map-rep", html: '<i class="bi bi-person-fill"></i>', iconSize: [26, 26] }),
        title: rep.name,
      });
      const box = document.createElement("div");
      const strong = document.createElement("strong");
      strong.textContent = rep.name;
      const small = document.createElement("div");
      small.textContent = [rep.title, rep.city].filter(Boolean).join(" · ");
      box.append(strong, small);
      marker.bindPopup(box);
      marker.addTo(layers.reps);
    }
    counts.reps = data.reps.length;
    publish();
  }

  // --- drag-to-adjust: draw a rectangle or a lasso over accounts, preview, propose ----------
  const selectButton = document.getElementById("map-select");
  const lassoButton = document.getElementById("map-lasso");
  let mode = null; // "rect" or "lasso" while drawing
  let start = null;
  let box = null;
  let trail = [];

  function setMode(next) {
    mode = next;
    for (const [button, name] of [[selectButton, "rect"], [lassoButton, "lasso"]]) {
      if (!button) continue;
      button.setAttribute("aria-pressed", mode === name ? "true" : "false");
      button.classList.toggle("active", mode === name);
    }
    el.classList.toggle("map-selecting", mode !== null);
    if (mode) map.dragging.disable(); else map.dragging.enable();
  }

  async function postAdjust(url, body) {
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": ds.csrf },
    });
    cardBox.innerHTML = await response.text(); // server-rendered, auto-escaped partial
    cardBox.hidden = false;
  }

  const fixed = (v) => v.toFixed(5);

  if (selectButton && ds.adjustUrl) {
    selectButton.addEventListener("click", () => setMode(mode === "rect" ? null : "rect"));
    if (lassoButton) lassoButton.addEventListener("click", () => setMode(mode === "lasso" ? null : "lasso"));
    map.on("mousedown", (event) => {
      if (!mode) return;
      start = event.latlng;
      if (box) box.remove();
      const style = { color: "#e09a00", weight: 2, dashArray: "5 4", fillOpacity: 0.08 };
      if (mode === "rect") {
        box = L.rectangle([start, start], style).addTo(map);
      } else {
        trail = [start];
        box = L.polygon(trail, style).addTo(map);
      }
    });
    map.on("mousemove", (event) => {
      if (!mode || !start || !box) return;
      if (mode === "rect") {
        box.setBounds([start, event.latlng]);
        return;
      }
      const last = map.latLngToContainerPoint(trail[trail.length - 1]);
      if (last.distanceTo(event.containerPoint) >= 4 && trail.length < 500) {
        trail.push(event.latlng);
        box.setLatLngs(trail);
      }
    });
    // On the container, not the map: a selection may end over a marker, which keeps its events.
    el.addEventListener("mouseup", (event) => {
      if (!mode || !start) return;
      const body = filterParams();
      let bounds;
      if (mode === "rect") {
        bounds = L.latLngBounds(start, map.mouseEventToLatLng(event));
      } else {
        trail.push(map.mouseEventToLatLng(event));
        box.setLatLngs(trail);
        bounds = box.getBounds();
        body.set("polygon", trail.map((p) => `${fixed(p.lng)} ${fixed(p.lat)}`).join(";"));
      }
      start = null;
      setMode(null);
      body.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map(fixed).join(","));
      body.set("zoom", String(map.getZoom()));
      postAdjust(ds.adjustUrl, body).catch(fail);
    });
    cardBox.addEventListener("submit", (event) => {
      const adjustForm = event.target.closest("[data-map-adjust]");
      if (!adjustForm) return;
      event.preventDefault();
      const url = (event.submitter && event.submitter.getAttribute("formaction")) || adjustForm.action;
      postAdjust(url, new URLSearchParams(new FormData(adjustForm))).then(() => {
        if (cardBox.querySelector('[data-card="adjust-done"]') && box) box.remove();
      }).catch(fail);
    });
  }

  // --- wiring -------------------------------------------------------------------------------
  function refreshView() {
    const jobs = [loadPoints()];
    if (enabled("heat") && document.getElementById("heat-level").value === "hex") jobs.push(loadHeat("heat"));
    return Promise.all(jobs).catch(fail);
  }

  function refreshAll() {
    statusBox.classList.remove("map-status-error");
    // Boundaries first: pins take their territory's colour.
    return loadBoundaries()
      .then(() => Promise.all([loadPoints(), loadHeat("heat"), loadHeat("whitespace"), loadReps()]))
      .then(() => { el.dataset.ready = "1"; })
      .catch(fail);
  }

  let timer = null;
  el.dataset.viewZoom = String(map.getZoom());
  map.on("moveend", () => {
    el.dataset.viewZoom = String(map.getZoom());
    clearTimeout(timer);
    timer = setTimeout(refreshView, 150);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `${form.action}?${filterParams()}`);
    refreshAll();
  });
  // A metric that belongs to territories (quota attainment) is drawn per territory whatever the
  // level: the level select says so, and gets the chosen area level back for the other metrics.
  const metricSelect = document.getElementById("heat-metric");
  const levelSelect = document.getElementById("heat-level");
  let areaLevel = levelSelect.value;
  function syncHeatLevel() {
    const chosen = metricSelect.selectedOptions[0];
    const perTerritory = Boolean(chosen && chosen.dataset.perTerritory);
    if (perTerritory && !levelSelect.dataset.forced) {
      areaLevel = levelSelect.value;
      levelSelect.dataset.forced = "1";
    }
    for (const option of levelSelect.options) option.disabled = perTerritory && option.value !== "territory";
    if (perTerritory) levelSelect.value = "territory";
    else if (levelSelect.dataset.forced) {
      levelSelect.value = areaLevel;
      delete levelSelect.dataset.forced;
    }
  }
  syncHeatLevel();

  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target === metricSelect) syncHeatLevel();
    if (target.dataset.layer || target.dataset.heat) {
      if (target.dataset.layer === "boundaries") loadBoundaries().catch(fail);
      else if (target.dataset.layer === "points") loadPoints().catch(fail);
      else if (target.dataset.layer === "reps") loadReps().catch(fail);
      else Promise.all([loadHeat("heat"), loadHeat("whitespace")]).catch(fail);
      return;
    }
    history.replaceState(null, "", `${form.action}?${filterParams()}`);
    refreshAll();
  });
  loadBase().catch(fail).then(refreshAll);
})();
