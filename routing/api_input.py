"""Reading the lead-routing API's input: the request body as one JSON object (size, encoding,
duplicate keys, constants refused), then each field checked and cleaned into a Lead column value
(``clean_fields``), with a message per field. Nothing here reaches the engine or the database
except the country list (cached)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, JsonResponse

from routing import engine
from salesos.models import GeoArea, Lead

MAX_BODY_BYTES = 64 * 1024
MAX_REPORTED_UNKNOWN = 20
INTEGER_MAX = engine.fields.INTEGER_MAX
REVENUE_MAX = Decimal("99999999999999.99")  # DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")

# Request field -> Lead column. ``name`` is accepted as another word for ``company``.
ROUTE_FIELDS: Mapping[str, str] = {
    "country": "country",
    "region": "region",
    "state": "state",
    "city": "city",
    "metro": "metro",
    "postal_code": "postal_code",
    "industry": "industry_code",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "company": "company",
    "name": "company",
}
LEAD_FIELDS: Mapping[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "source": "source",
    "status": "status",
    **ROUTE_FIELDS,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STATE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_INDUSTRY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
_MONEY_TEXT = re.compile(r"^[0-9]{1,14}(\.[0-9]{1,2})?$")


def errors_response(errors: Mapping[str, list[str]], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": dict(errors)}, status=status)


def _body_error(message: str) -> JsonResponse:
    return errors_response({"body": [message]})


# --- parsing ------------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _BadConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # Python's parser accepts NaN and Infinity; JSON does not, and neither do we.
    raise _BadConstant(f"{name} is not a JSON value")


def _parse_int(text: str) -> int | Decimal:
    # Python refuses to convert integers of more than 4,300 digits; keep long ones as Decimal
    # so the field check can say "too large" instead of the parser failing.
    return int(text) if len(text) <= 40 else Decimal(text)


def read_json_object(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """The request body as a JSON object, or the error answer (400, 413)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _too_large()
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not declared
    if chunked:
        # Django reads CONTENT_LENGTH bytes, none for a chunked body. A server that decodes
        # chunked bodies marks its input as ending there (gunicorn: wsgi.input_terminated), and
        # only then can the body be read to its end.
        if not request.META.get("wsgi.input_terminated"):
            return JsonResponse(
                {"error": "This server cannot read a chunked request body: send a Content-Length."}, status=411
            )
        body = request.META["wsgi.input"].read(MAX_BODY_BYTES + 1)
    else:
        try:
            body = request.body
        except RequestDataTooBig:
            return _too_large()
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    if not body.strip():
        return _body_error("The request body is empty: send a JSON object.")
    try:
        data = json.loads(
            body,
            object_pairs_hook=_object_pairs,
            parse_float=Decimal,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except _DuplicateKey as exc:
        return errors_response({_shown(exc.key): ["This field is given more than once."]})
    except RecursionError:
        return _body_error("The request body is not valid JSON: it is nested too deeply.")
    except UnicodeDecodeError:
        return _body_error("The request body is not valid JSON: it is not UTF-8 text.")
    except (ValueError, InvalidOperation) as exc:
        detail = str(exc) if isinstance(exc, json.JSONDecodeError | _BadConstant) else "unreadable"
        return _body_error(f"The request body is not valid JSON: {detail}.")
    if not isinstance(data, dict):
        return _body_error(f"The request body must be a JSON object, not {_json_type(data)}.")
    return data


def _too_large() -> JsonResponse:
    return JsonResponse({"error": f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."}, status=413)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _shown(key: str) -> str:
    """A client's key as it may appear in an error (bounded: keys come from outside)."""
    return key if len(key) <= 64 else key[:61] + "..."


# --- field checks -------------------------------------------------------------------------------


class FieldError(ValueError):
    pass


# (loaded_at by time.monotonic(), codes), or None before the first load. The monotonic clock
# starts near zero at boot, so "never loaded" must not be a time: a 0.0 stamp read as fresh
# (and empty) for the machine's first ten minutes.
_country_cache: tuple[float, frozenset[str]] | None = None
_country_lock = threading.Lock()
COUNTRY_CACHE_SECONDS = 600


def known_countries() -> frozenset[str]:
    """Country codes of the loaded reference geography (empty when none is loaded), cached
    per process for a few minutes: reference data changes with ``load_reference`` only."""
    global _country_cache
    cached = _country_cache
    if cached is not None and time.monotonic() - cached[0] < COUNTRY_CACHE_SECONDS:
        return cached[1]
    with _country_lock:
        codes = frozenset(
            code.upper()
            for code in GeoArea.objects.filter(level=GeoArea.Level.COUNTRY).values_list("code", flat=True)
        )
        _country_cache = (time.monotonic(), codes)
    return codes


def forget_known_countries() -> None:
    global _country_cache
    _country_cache = None


def _text(value: Any, column: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise FieldError(f"Must be a string, not {_json_type(value)}.")
    value = value.strip()
    if _CONTROL.search(value):
        raise FieldError("Must not contain control characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("Must be valid Unicode text (unpaired surrogate escapes are not).") from None
    limit = limit or getattr(Lead._meta.get_field(column), "max_length", None)
    if limit is not None and len(value) > limit:
        raise FieldError(f"Ensure this value has at most {limit} characters (it has {len(value)}).")
    return value


def _country(value: Any, column: str) -> str:
    # The format check below gives the better message, so the length limit here is loose.
    code = _text(value, column, limit=64).upper()
    if not _COUNTRY.match(code):
        raise FieldError('Must be an ISO 3166-1 alpha-2 country code such as "US".')
    known = known_countries()
    if known and code not in known:
        raise FieldError(f'Unknown country code "{code}".')
    return code


def _region(value: Any, column: str) -> str:
    code = _text(value, column, limit=64).upper()
    code = engine.fields.REGION_ALIASES.get(code, code)
    if code not in engine.fields.REGIONS:
        raise FieldError(f"Must be one of {', '.join(engine.fields.REGIONS)}.")
    return code


def _state(value: Any, column: str) -> str:
    code = _text(value, column, limit=64).upper()
    if not _STATE.match(code):
        raise FieldError('Must be an ISO 3166-2 subdivision code such as "US-CA".')
    return code


def _industry(value: Any, column: str) -> str:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        raise FieldError('Must be a string, e.g. "622110" (a NAICS code), not a number.')
    code = _text(value, column)
    if not _INDUSTRY.match(code):
        raise FieldError('Must be an industry code such as "622110": letters, digits, "." or "-".')
    return code


def _postal(value: Any, column: str) -> str:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        raise FieldError('Must be a string, e.g. "02108" (leading zeros matter), not a number.')
    return _text(value, column)


def _employees(value: Any, column: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FieldError(f"Must be a whole number, not {_json_type(value)}.")
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        raise FieldError("Must be a whole number.")
    if value < 0:
        raise FieldError("Must be zero or more.")
    if value > INTEGER_MAX:
        raise FieldError(f"Must be at most {INTEGER_MAX}.")
    return int(value)


def _revenue(value: Any, column: str) -> Decimal:
    if isinstance(value, str):
        text = value.strip()
        if not _MONEY_TEXT.match(text):
            raise FieldError('Must be a number such as 2500000 or "2500000.50".')
        value = Decimal(text)
    elif isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FieldError(f"Must be a number, not {_json_type(value)}.")
    amount = Decimal(value)
    if not amount.is_finite():
        raise FieldError("Must be a finite number.")
    if amount < 0:
        raise FieldError("Must be zero or more.")
    if amount > REVENUE_MAX:
        raise FieldError(f"Must be at most {REVENUE_MAX}.")
    if amount != amount.quantize(CENT):
        raise FieldError("Must have at most 2 decimal places.")
    return amount.quantize(CENT) if amount else Decimal("0.00")


def _email(value: Any, column: str) -> str:
    address = _text(value, column)
    try:
        validate_email(address)
    except ValidationError:
        raise FieldError("Enter a valid email address.") from None
    return address


def _status(value: Any, column: str) -> str:
    status = _text(value, column).lower()
    if status not in Lead.Status.values:
        raise FieldError(f"Must be one of {', '.join(Lead.Status.values)}.")
    return status


CHECKS: Mapping[str, Callable[[Any, str], Any]] = {
    "country": _country,
    "region": _region,
    "state": _state,
    "industry": _industry,
    "postal_code": _postal,
    "employees": _employees,
    "annual_revenue": _revenue,
    "email": _email,
    "status": _status,
}


def clean_fields(data: Mapping[str, Any], allowed: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Checks a request object against the allowed fields. Returns ``(values by column, errors
    by request field)``; a missing, ``null`` or blank value is left out of the values."""
    errors: dict[str, list[str]] = {}
    unknown = [key for key in data if key not in allowed]
    if unknown:
        message = f"Unknown field. Allowed fields: {', '.join(sorted(allowed))}."
        for key in unknown[:MAX_REPORTED_UNKNOWN]:
            errors[_shown(key)] = [message]
        if len(unknown) > MAX_REPORTED_UNKNOWN:
            errors["body"] = [f"{len(unknown)} unknown fields; the first {MAX_REPORTED_UNKNOWN} are listed."]
    values: dict[str, Any] = {}
    for key, column in allowed.items():
        if key not in data or data[key] is None or (isinstance(data[key], str) and not data[key].strip()):
            continue
        check = CHECKS.get(key, _text)
        try:
            value = check(data[key], column)
        except FieldError as exc:
            errors[key] = [str(exc)]
            continue
        if column in values and values[column] != value:
            errors[key] = ['"name" and "company" are the same field; they differ here.']
            continue
        values[column] = value
    if "country" in values and "state" in values and not values["state"].startswith(values["country"] + "-"):
        errors.setdefault("state", []).append(f'{values["state"]} is not in country {values["country"]}.')
    return values, errors
