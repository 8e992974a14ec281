"""InfluxDB metric provider: a Flux query through the v2 query API, as Argo's (influxdb-client-go v2).

Credentials: the Secret `influxdb` (or `profile`) in the controller's namespace, keys `authToken`, `org`
and `address` (all three). The request is POST <address>/api/v2/query?org=<org> with `Authorization: Token
<authToken>` and `{"dialect": {"annotations": ["datatype", "group", "default"], "delimiter": ",",
"header": true}, "query": <flux>, "type": "flux"}`; the answer is annotated CSV.

The result is the list of every record's `_value`, typed by its `#datatype` annotation (double -> float64,
long -> int64, boolean, string, ...), shown as Go's fmt.Sprint prints it (`[10 20.5]`); no record is an
Error ("no results returned from flux query"). As in Argo, an error table in the CSV yields no record. A
non-2xx answer is an Error with InfluxDB's `code: message` (`unauthorized: unauthorized access`), or the
client's words for a 429 without a body (`too many requests: exceeded rate limit`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from analysis.conditions import Value
from analysis.expr import gotypes
from analysis.expr.gofmt import format_v
from analysis.expr.values import make_int
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, CredentialsError, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, HttpResponse, json_body, request, with_query
from rollouts.api.analysis import Measurement, Metric

SECRET_NAME = "influxdb"
TIMEOUT = 30.0
DIALECT = {"annotations": ["datatype", "group", "default"], "delimiter": ",", "header": True}


class InfluxError(Exception):
    pass


def _typed(text: str, datatype: str) -> Value:
    try:
        if datatype == "double":
            return float(text)
        if datatype == "long":
            return make_int(int(text), gotypes.INT64)
        if datatype == "unsignedLong":
            return make_int(int(text), gotypes.UINT64)
        if datatype == "boolean":
            return text.lower() == "true"
    except ValueError:
        raise InfluxError(f"{datatype} value '{text}' cannot be parsed") from None
    return text


def record_values(text: str) -> list[Value]:
    """`_value` of every record of an annotated-CSV answer (tables in order)."""
    values: list[Value] = []
    types: list[str] = []
    defaults: list[str] = []
    names: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if len(row) <= 1:
            names = None if not row or not row[0] else names
            continue
        head, cells = row[0], row[1:]
        if head == "#datatype":
            types, names = cells, None
        elif head == "#default":
            defaults = cells
        elif head.startswith("#"):
            continue
        elif names is None:
            if cells[0] == "error":
                return values  # Argo reads no further and never looks at the error
            names = cells
        elif "_value" in names:
            i = names.index("_value")
            cell = cells[i] if i < len(cells) else ""
            values.append(_typed(cell or (defaults[i] if i < len(defaults) else ""),
                                 types[i] if i < len(types) else "string"))
        else:
            values.append(None)
    return values


def _error(response: HttpResponse) -> str:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    code = message = ""
    if content_type == "application/json":
        try:
            body: Any = response.json()
        except HttpError as exc:
            return str(exc)
        if isinstance(body, dict):
            code, message = str(body.get("code") or ""), str(body.get("message") or "")
    else:
        code, message = response.status_line, response.text
    if not code and not message:
        code, message = {429: ("too many requests", "exceeded rate limit"),
                         503: ("unavailable", "service temporarily unavailable")}.get(
            response.status, (response.status_line, response.headers.get("X-Influxdb-Error", "")))
    if code and message:
        return f"{code}: {message}"
    return f"Unexpected status code {response.status}"


class InfluxdbProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def _query(self, profile: str, flux: str, secrets: tuple[str, ...]) -> list[Value]:
        data = await self.deps.secret_data(profile or SECRET_NAME, credentials=("authToken",))
        token, address, org = data.get("authToken", ""), data.get("address", ""), data.get("org", "")
        if not token or not address or not org:
            raise CredentialsError("authToken, org, or address not found")
        url = with_query(address.rstrip("/") + "/api/v2/query", {"org": org})
        body = json_body({"dialect": DIALECT, "query": flux, "type": "flux"})
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json",
                   "Accept-Encoding": "gzip"}
        response = await request("POST", url, headers=headers, body=body, timeout=TIMEOUT,
                                 secrets=(token, *secrets))
        if not response.ok:
            raise InfluxError(_error(response))
        return record_values(response.text)

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.influxdb
        if spec is None:
            return error_measurement("influxdb provider is not set", started_at=started, finished_at=started)
        try:
            values = await self._query(spec.profile, spec.query, context.secrets)
            if not values:
                raise InfluxError("no results returned from flux query")
        except (CredentialsError, InfluxError, HttpError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        measurement = await measurement_from_result(metric, values, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        return with_shown_value(measurement, format_v(values), secrets=context.secrets)
