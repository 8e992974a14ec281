"""New Relic metric provider: one NRQL query through NerdGraph, as Argo's (newrelic-client-go).

Credentials: the Secret `newrelic` (or `profile`) in the controller's namespace, keys `personal-api-key`,
`account-id`, optional `region` (`us` default, `eu`; or `staging`) and `base-url-nerdgraph` (a proxy or a
test server). The request is POST https://api.newrelic.com/graphql (https://api.eu.newrelic.com/graphql in
the EU) with the `Api-Key` header and the GraphQL query `actor { account(id) { nrql(query, timeout) { results
} } }`; `timeout` is NRQL's, in seconds (default 5).

The result is the one NRQL row as a map (`result.count`, `result['percentile.duration']['95']`), or the list
of rows when there are several (FACET queries); no rows is an Error. GraphQL errors are Errors with their
messages; 401 (or BAD_API_KEY) and other statuses are worded as newrelic-client-go words them. Unlike the Go
client, a 429/5xx is not retried three times within the measurement: the run retries an Error in 10 s.
"""

from __future__ import annotations

from typing import Any

from analysis.conditions import Value, from_json_value
from analysis.expr.gojson import marshal
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, CredentialsError, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, HttpResponse, json_body, request
from rollouts.api.analysis import Measurement, Metric, NewRelicMetric

SECRET_NAME = "newrelic"
DEFAULT_NRQL_TIMEOUT = 5
HTTP_TIMEOUT = 60.0
USER_AGENT = "argo-rollouts/v1.10.2 (https://github.com/argoproj/argo-rollouts)"
NERDGRAPH = {"us": "https://api.newrelic.com/graphql", "eu": "https://api.eu.newrelic.com/graphql",
             "staging": "https://staging-api.newrelic.com/graphql", "local": "http://localhost:3000/graphql"}
NRQL_QUERY = """query (
  $query: Nrql!,
  $accountId: Int!,
  $timeout: Seconds!
)
{
  actor {
    account(id: $accountId) {
      nrql(query: $query, timeout: $timeout) {
        results
      }
    }
  }
}
"""


class NewRelicError(Exception):
    pass


async def endpoint(deps: ProviderDeps, spec: NewRelicMetric) -> tuple[str, str, int]:
    """(NerdGraph URL, personal API key, account id) from the profile Secret."""
    data = await deps.secret_data(spec.profile or SECRET_NAME, credentials=("personal-api-key",))
    api_key, account = data.get("personal-api-key", ""), data.get("account-id", "")
    region = data.get("region", "us")
    if region.lower() not in NERDGRAPH:
        raise NewRelicError(f"unknown region: {region}")
    if not api_key or not account:
        raise CredentialsError("account ID or personal API key not found")
    try:
        account_id = int(account)
    except ValueError:
        raise NewRelicError(f'could not parse account ID: strconv.Atoi: parsing "{account}": invalid syntax'
                            ) from None
    return data.get("base-url-nerdgraph") or NERDGRAPH[region.lower()], api_key, account_id


def _graphql_errors(body: Any) -> list[dict[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def results(response: HttpResponse) -> list[Any]:
    """The NRQL rows of a NerdGraph answer; NewRelicError in newrelic-client-go's words otherwise."""
    try:
        body = response.json()
    except HttpError:
        body = None
    errors = _graphql_errors(body)
    messages = ", ".join(str(e["message"]) for e in errors if e.get("message"))
    if not 200 <= response.status < 300:
        bad_key = any((e.get("extensions") or {}).get("errorCode") == "BAD_API_KEY" for e in errors)
        if errors and (response.status == 401 or bad_key):
            raise NewRelicError("401 response returned: Invalid credentials provided. Missing API key or an invalid "
                                "API key was provided.")
        if response.status == 402:
            raise NewRelicError("Payment Required")
        raise NewRelicError(f"{response.status} response returned" + (f": {messages}" if messages else ""))
    if messages and not all("deprecated" in str(e.get("message", "")) for e in errors):
        raise NewRelicError(messages)
    try:
        rows = body["data"]["actor"]["account"]["nrql"]["results"]
    except (TypeError, KeyError):
        rows = None
    return rows if isinstance(rows, list) else []


class NewRelicProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.new_relic
        if spec is None:
            return error_measurement("newRelic provider is not set", started_at=started, finished_at=started)
        try:
            timeout = DEFAULT_NRQL_TIMEOUT if spec.timeout is None else spec.timeout
            if timeout < 0:
                raise NewRelicError("timeout value needs to be a positive value")
            url, api_key, account_id = await endpoint(self.deps, spec)
            payload = {"query": NRQL_QUERY, "variables": {"accountId": account_id, "query": spec.query,
                                                          "timeout": timeout}}
            headers = {"Api-Key": api_key, "Content-Type": "application/json", "User-Agent": USER_AGENT,
                       "NewRelic-Requesting-Services": "newrelic-client-go"}
            response = await request("POST", url, headers=headers, body=json_body(payload), timeout=HTTP_TIMEOUT,
                                     secrets=(api_key, *context.secrets))
            rows = results(response)
            if not rows or (len(rows) == 1 and not rows[0]):
                raise NewRelicError("no results returned from NRQL query")
        except (CredentialsError, NewRelicError, HttpError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        result: Value = from_json_value(rows[0] if len(rows) == 1 else rows)
        measurement = await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        return with_shown_value(measurement, marshal(result), secrets=context.secrets)
