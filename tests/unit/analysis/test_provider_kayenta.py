"""Kayenta against a local server with its REST API (https://github.com/spinnaker/kayenta, the
CanaryConfigController and CanaryController): GET /canaryConfig lists configs, POST /canary/{configId}
starts an execution from `{"scopes": {...}, "thresholds": {...}}` and answers `{"canaryExecutionId"}`,
GET /canary/{executionId} answers `{"complete": false, "status": "running"}` until the judgement is
done. Behaviour and messages are Argo v1.10.2's (metricproviders/kayenta)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from analysis.providers import MeasurementContext
from analysis.providers.kayenta import KayentaProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import deps_with, serve

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
RUN_START = NOW - timedelta(minutes=30)


class Kayenta:
    def __init__(self, score: float | None = 92.5, polls_until_complete: int = 1) -> None:
        self.score, self.polls = score, polls_until_complete

    def routes(self) -> dict[tuple[str, str], Any]:
        async def configs(request: web.Request) -> web.Response:
            assert request.query == {"application": "guestbook", "configurationAccountName": "my-storage"}
            return web.json_response([{"id": "cfg-other", "name": "other", "applications": ["guestbook"]},
                                      {"id": "cfg-1", "name": "guestbook-config", "updatedTimestamp": 1,
                                       "updatedTimestampIso": "2026-01-01T00:00:00Z", "applications": ["guestbook"]}])

        async def start(request: web.Request) -> web.Response:
            if request.match_info["id"] != "cfg-1" or request.headers.get("Content-Type") != "application/json":
                return web.json_response({"message": "not found"}, status=404)
            return web.json_response({"canaryExecutionId": "01HXYZ"})

        async def status(request: web.Request) -> web.Response:
            self.polls -= 1
            if self.polls > 0:
                return web.json_response({"complete": False, "status": "running"})
            result = {} if self.score is None else {"judgeResult": {"score": {"score": self.score,
                                                                              "classification": "Pass"}}}
            return web.json_response({"complete": True, "status": "succeeded", "result": result})

        return {("GET", "/canaryConfig"): configs, ("POST", "/canary/{id}"): start,
                ("GET", "/canary/{id}"): status}


def _metric(address: str, **kayenta: Any) -> Metric:
    scope = {"scope": "app=guestbook", "region": "us-east-1", "step": 60}
    return Metric.model_validate({"name": "judge", "interval": "5m", "provider": {"kayenta": {
        "address": address, "application": "guestbook", "canaryConfigName": "guestbook-config",
        "metricsAccountName": "my-metrics", "configurationAccountName": "my-config", "storageAccountName": "my-storage",
        "threshold": {"pass": 90, "marginal": 75},
        "scopes": [{"name": "default", "controlScope": {**scope, "scope": "app=guestbook-stable"},
                    "experimentScope": {**scope, "scope": "app=guestbook-canary"}}], **kayenta}}})


def _context() -> MeasurementContext:
    return MeasurementContext(namespace="apps", run_name="run", run_uid="uid", started_at=RUN_START)


@pytest.mark.parametrize(("score", "phase"), [(92.5, AnalysisPhase.SUCCESSFUL), (80, AnalysisPhase.INCONCLUSIVE),
                                              (74.9, AnalysisPhase.FAILED)])
async def test_starts_an_execution_and_polls_it_to_a_score(score: float, phase: AnalysisPhase) -> None:
    kayenta = Kayenta(score, polls_until_complete=2)
    provider = KayentaProvider(deps_with(now=NOW))
    async with serve(kayenta.routes()) as server:
        metric = _metric(server.base)
        running = await provider.measure(metric, _context())
        assert running.phase is AnalysisPhase.RUNNING and running.metadata == {"canaryExecutionId": "01HXYZ"}
        assert running.resume_at == NOW + timedelta(seconds=15)
        again = await provider.resume(metric, running, _context())
        assert again.phase is AnalysisPhase.RUNNING
        done = await provider.resume(metric, again, _context())
    assert (done.phase, done.value) == (phase, str(int(score)))
    started = server.requests[1]
    assert started.query == {"application": "guestbook", "metricsAccountName": "my-metrics",
                             "configurationAccountName": "my-config", "storageAccountName": "my-storage"}
    window = {"start": "2026-03-01T11:55:00Z", "end": "2026-03-01T12:00:00Z"}
    assert json.loads(started.body) == {"scopes": {"default": {
        "controlScope": {"scope": "app=guestbook-stable", "location": "us-east-1", "step": 60, **window},
        "experimentScope": {"scope": "app=guestbook-canary", "location": "us-east-1", "step": 60, **window}}},
        "thresholds": {"pass": 90, "marginal": 75}}


async def test_lookback_starts_the_window_at_the_runs_start() -> None:
    async with serve(Kayenta().routes()) as server:
        await KayentaProvider(deps_with(now=NOW)).measure(_metric(server.base, lookback=True), _context())
    scope = json.loads(server.requests[1].body)["scopes"]["default"]["controlScope"]
    assert (scope["start"], scope["end"]) == ("2026-03-01T11:30:00Z", "2026-03-01T12:00:00Z")


async def test_errors() -> None:
    provider = KayentaProvider(deps_with(now=NOW))
    async with serve(Kayenta().routes()) as server:
        m = await provider.measure(_metric(server.base, canaryConfigName="missing"), _context())
        assert (m.phase, m.message) == (AnalysisPhase.ERROR, "Canary config not found")
        bad = _metric(server.base)
        spec = bad.provider.kayenta
        assert spec is not None
        one_sided = spec.scopes[0].control_scope.model_copy(update={"start": "2026-03-01T00:00:00Z"})
        scopes = [spec.scopes[0].model_copy(update={"control_scope": one_sided})]
        bad = bad.model_copy(update={"provider": bad.provider.model_copy(update={
            "kayenta": spec.model_copy(update={"scopes": scopes})})})
        m = await provider.measure(bad, _context())
        assert m.message == "controlScope.start and experimentScope.start must both be set or be empty"
    async with serve(Kayenta(score=None).routes()) as server:
        metric = _metric(server.base)
        running = await provider.measure(metric, _context())
        done = await provider.resume(metric, running, _context())
    assert (done.phase, done.message, done.metadata) == (AnalysisPhase.ERROR, "Missing Score",
                                                         {"canaryExecutionId": "01HXYZ"})
    async with serve({}) as server:
        m = await provider.measure(_metric(server.base), _context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, "Invalid Response: HTTP 404")
