"""Kayenta metric provider: a canary judgement by a Kayenta server's REST API, as Argo's.

A measurement looks up the canary config by name (GET <address>/canaryConfig?application=...&
configurationAccountName=<storageAccountName>: Argo passes the storage account there, and so do we, so a
setup that works with Argo works here), starts a judgement (POST <address>/canary/<configId>?application=
...&metricsAccountName=...&configurationAccountName=...&storageAccountName=... with the scopes and
thresholds) and is Running with `metadata.canaryExecutionId`; every 15 s it reads GET <address>/canary/<id>
until `complete`, then the score (`result.judgeResult.score.score`, shown as an integer) is Successful at or
above `threshold.pass`, Inconclusive at or above `threshold.marginal`, else Failed. Conditions are not used.

Each scope's window is its `start`/`end` when both control and experiment give them (both or neither, as
Argo checks), else [now - the metric's `interval`, now], or with `lookback` [the run's start, now].
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from analysis.expr.gotime import TimeError, parse_duration
from analysis.measurement import error_measurement
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, json_body, request
from rollouts.api.analysis import (
    AnalysisPhase,
    KayentaMetric,
    KayentaScope,
    KayentaScopeDetail,
    Measurement,
    Metric,
)

RESUME_DELAY = timedelta(seconds=15)
TIMEOUT = 15.0


class KayentaError(Exception):
    pass


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment.utcoffset() == timedelta(0) else moment.isoformat()


def _q(text: str) -> str:
    return quote(text, safe="")


def scope_request(scope: KayentaScope, *, run_started: datetime, now: datetime, interval: str | None,
                  lookback: bool) -> dict[str, Any]:
    control, experiment = scope.control_scope, scope.experiment_scope
    if bool(control.start) != bool(experiment.start):
        raise KayentaError("controlScope.start and experimentScope.start must both be set or be empty")
    if bool(control.end) != bool(experiment.end):
        raise KayentaError("controlScope.end and experimentScope.end must both be set or be empty")
    start = control.start
    if not start:
        if lookback:
            start = _rfc3339(run_started)
        else:
            try:
                window = timedelta(microseconds=parse_duration(interval or "") // 1000)
            except TimeError as exc:
                raise KayentaError(f'Invalid duration "{interval or ""}": {exc}') from None
            start = _rfc3339(now - window)
    end = control.end or _rfc3339(now)

    def detail(d: KayentaScopeDetail) -> dict[str, Any]:
        return {"scope": d.scope, "location": d.region, "step": d.step, "start": d.start or start,
                "end": d.end or end}

    return {"controlScope": detail(control), "experimentScope": detail(experiment)}


async def config_id(spec: KayentaMetric) -> str:
    url = (f"{spec.address}/canaryConfig?application={_q(spec.application)}"
           f"&configurationAccountName={_q(spec.storage_account_name)}")
    response = await request("GET", url, timeout=TIMEOUT)
    if response.status != 200:
        raise KayentaError(f"Invalid Response: HTTP {response.status}")
    configs = response.json()
    for config in configs if isinstance(configs, list) else []:
        if isinstance(config, dict) and config.get("name") == spec.canary_config_name:
            return str(config.get("id", ""))
    raise KayentaError("Canary config not found")


def phase_of(score: int, spec: KayentaMetric) -> AnalysisPhase:
    if score >= spec.threshold.pass_:
        return AnalysisPhase.SUCCESSFUL
    if score >= spec.threshold.marginal:
        return AnalysisPhase.INCONCLUSIVE
    return AnalysisPhase.FAILED


def score_of(body: Any) -> int | None:
    """The judgement's score, None while it is not complete; KayentaError when the answer says neither."""
    complete = body.get("complete") if isinstance(body, dict) else None
    if not isinstance(complete, bool):
        raise KayentaError("Missing Complete Status")
    if not complete:
        return None
    try:
        score = body["result"]["judgeResult"]["score"]["score"]
    except (KeyError, TypeError):
        raise KayentaError("Missing Score") from None
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise KayentaError("Missing Score")
    return int(score)


class KayentaProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.kayenta
        if spec is None:
            return error_measurement("kayenta provider is not set", started_at=started, finished_at=started)
        try:
            config = await config_id(spec)
            scopes = {s.name: scope_request(s, run_started=context.started_at, now=started, interval=metric.interval,
                                            lookback=spec.lookback) for s in spec.scopes}
            url = (f"{spec.address}/canary/{_q(config)}?application={_q(spec.application)}"
                   f"&metricsAccountName={_q(spec.metrics_account_name)}"
                   f"&configurationAccountName={_q(spec.configuration_account_name)}"
                   f"&storageAccountName={_q(spec.storage_account_name)}")
            payload = {"scopes": dict(sorted(scopes.items())),
                       "thresholds": {"pass": spec.threshold.pass_, "marginal": spec.threshold.marginal}}
            response = await request("POST", url, headers={"Content-Type": "application/json"},
                                     body=json_body(payload), timeout=TIMEOUT)
            if response.status != 200:
                raise KayentaError("Invalid Response")
            body = response.json()
            execution = body.get("canaryExecutionId") if isinstance(body, dict) else None
            if not execution:
                raise KayentaError("Invalid canaryExecutionId")
        except (KayentaError, HttpError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        return Measurement(phase=AnalysisPhase.RUNNING, started_at=started, resume_at=self.clock() + RESUME_DELAY,
                           metadata={"canaryExecutionId": str(execution)})

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext) -> Measurement:
        spec = metric.provider.kayenta
        execution = (measurement.metadata or {}).get("canaryExecutionId", "")
        try:
            if spec is None:
                raise KayentaError("kayenta provider is not set")
            response = await request("GET", f"{spec.address}/canary/{_q(execution)}", timeout=TIMEOUT)
            if response.status != 200:
                raise KayentaError("Invalid Response")
            score = score_of(response.json())
        except (KayentaError, HttpError) as exc:
            return measurement.model_copy(update={"phase": AnalysisPhase.ERROR, "message": str(exc),
                                                  "finished_at": self.clock(), "resume_at": None})
        if score is None:
            return measurement.model_copy(update={"resume_at": self.clock() + RESUME_DELAY})
        return measurement.model_copy(update={"phase": phase_of(score, spec), "value": str(score),
                                              "finished_at": self.clock(), "resume_at": None})
