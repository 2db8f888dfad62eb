"""The map's query string, validated: filters, viewport and heat-map choices."""

from __future__ import annotations

import math

import shapely
from django import forms

from analytics.map_heat import LEVELS, METRICS
from analytics.map_points import SIZE_BANDS, STATUSES, Viewport
from analytics.map_selectors import MapQuery
from salesos.models import Industry
from territories.models import Territory

MAX_ZOOM = 20


def sector_choices() -> list[tuple[str, str]]:
    """NAICS sectors (two-digit codes), the level the map filters industries on."""
    return [
        (code, f"{code} {title}")
        for code, title in Industry.objects.filter(scheme=Industry.Scheme.NAICS, level=1).values_list("code", "title")
    ]


def _multi(rows: int) -> forms.SelectMultiple:
    return forms.SelectMultiple(attrs={"class": "form-select form-select-sm", "size": rows})


class MapFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        required=False,
        label="Assignment",
        choices=[(s, s.capitalize()) for s in STATUSES],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    industry = forms.MultipleChoiceField(required=False, label="Industry", choices=[], widget=_multi(5))
    size = forms.MultipleChoiceField(
        required=False, label="Size band", choices=[(key, label) for key, label, _, _ in SIZE_BANDS], widget=_multi(5)
    )
    type = forms.MultipleChoiceField(
        required=False, label="Territory type", choices=Territory.Type.choices, widget=_multi(5)
    )
    level = forms.CharField(required=False, label="Hierarchy level")
    territory = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, max_depth: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        industry = self.fields["industry"]
        assert isinstance(industry, forms.MultipleChoiceField)
        industry.choices = sector_choices  # read when rendered or a sector is asked for, not on every data request
        self.level_choices = [("leaf", "Deepest territories"), ("all", "Every level")] + [
            (str(d), "Top level" if d == 0 else f"Level {d + 1}") for d in range(max_depth + 1)
        ]

    def clean_level(self) -> str:
        level = self.cleaned_data.get("level") or "leaf"
        if level not in ("leaf", "all") and not (level.isdigit() and int(level) <= 50):
            raise forms.ValidationError("Choose a hierarchy level from the list.")
        return level

    def query(self) -> MapQuery:
        data = self.cleaned_data
        return MapQuery(
            statuses=frozenset(data["status"]),
            sectors=frozenset(data["industry"]),
            bands=frozenset(data["size"]),
            types=frozenset(data["type"]),
            level=data["level"],
            territory=data.get("territory"),
        )


class ViewportForm(forms.Form):
    """The visible part of the map; without one, the whole world at zoom 2."""

    bbox = forms.CharField(required=False, help_text="west,south,east,north in degrees")
    zoom = forms.IntegerField(required=False, min_value=0, max_value=MAX_ZOOM)

    def clean_zoom(self) -> int:
        zoom = self.cleaned_data.get("zoom")
        return 2 if zoom is None else zoom

    def clean_bbox(self) -> tuple[float, float, float, float]:
        if not self.cleaned_data.get("bbox"):
            return -180.0, -90.0, 180.0, 90.0
        parts = self.cleaned_data["bbox"].split(",")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise forms.ValidationError("bbox must be four numbers: west,south,east,north.") from None
        if any(v != v for v in (west, south, east, north)):  # NaN
            raise forms.ValidationError("bbox must be four numbers: west,south,east,north.")
        west, east = max(-180.0, min(180.0, west)), max(-180.0, min(180.0, east))
        south, north = max(-90.0, min(90.0, south)), max(-90.0, min(90.0, north))
        if west > east or south > north:
            raise forms.ValidationError("bbox must have west <= east and south <= north.")
        return west, south, east, north

    def viewport(self) -> Viewport:
        west, south, east, north = self.cleaned_data["bbox"]
        return Viewport(west, south, east, north, zoom=self.cleaned_data["zoom"])


class HeatForm(forms.Form):
    metric = forms.ChoiceField(required=False, choices=list(METRICS.items()))
    area = forms.ChoiceField(required=False, choices=list(LEVELS.items()), help_text="country, state or hex")

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or "accounts"

    white_space = forms.BooleanField(required=False)
    period = forms.IntegerField(required=False, min_value=1, help_text="a fiscal period id, for quota attainment")

    def clean_area(self) -> str:
        return self.cleaned_data.get("area") or "state"


class ShareLocationForm(forms.Form):
    share = forms.BooleanField(required=False)


LASSO_MAX_POINTS = 500


class AdjustForm(forms.Form):
    """A rectangle (the viewport form's ``bbox``) or a lasso (``polygon``) of accounts to move,
    where to, and (to propose) when and why."""

    polygon = forms.CharField(required=False, max_length=20_000, help_text="lon lat;lon lat;... (a lasso)")
    to_territory = forms.IntegerField(required=False, min_value=1, label="Move to")
    effective_date = forms.DateField(required=False, label="Effective date")
    reason = forms.CharField(required=False, max_length=2000, label="Reason")

    def clean_polygon(self) -> shapely.Polygon | None:
        raw = (self.cleaned_data.get("polygon") or "").strip()
        if not raw:
            return None
        message = f"A lasso is 3 to {LASSO_MAX_POINTS} points 'lon lat' separated by ';'."
        try:
            points = [tuple(float(v) for v in pair.split()) for pair in raw.split(";") if pair.strip()]
        except ValueError:
            raise forms.ValidationError(message) from None
        if not 3 <= len(points) <= LASSO_MAX_POINTS or any(len(p) != 2 for p in points):
            raise forms.ValidationError(message)
        if not all(math.isfinite(v) for p in points for v in p) or any(
            not (-180 <= lon <= 180 and -90 <= lat <= 90) for lon, lat in points
        ):
            raise forms.ValidationError("A lasso's points are longitudes and latitudes in degrees.")
        shape = shapely.make_valid(shapely.Polygon(points))  # a lasso may cross itself
        if shape.is_empty or shape.area == 0:
            raise forms.ValidationError("Draw the lasso around the accounts: it encloses nothing.")
        return shape
