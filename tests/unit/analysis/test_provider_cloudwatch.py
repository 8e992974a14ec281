"""CloudWatch and the AWS plumbing: SigV4 against AWS's published test vectors, the SDK's credential chain
against local STS / container-credential servers, and GetMetricData against a local server that checks the
JSON protocol request (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html)
and verifies its signature with its own SigV4 check, answering in CloudWatch's documented shapes and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from analysis.providers.aws import AwsCredentials, default_credentials, sign
from analysis.providers.cloudwatch import CloudWatchProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import context, deps_with, serve, verify_signature

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE = AwsCredentials(AKID, SECRET)
VECTOR_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "url", "headers", "region", "service", "signature"),
    [
        # aws-sig-v4-test-suite, get-vanilla
        pytest.param("GET", "https://example.amazonaws.com/", {}, "us-east-1", "service",
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", id="get-vanilla"),
        # IAM User Guide, "Elements of an AWS API request signature" (ListUsers)
        pytest.param("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, "us-east-1", "iam",
                     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", id="iam-list-users"),
    ],
)
def test_sigv4_matches_awss_published_vectors(method: str, url: str, headers: dict[str, str], region: str,
                                              service: str, signature: str) -> None:
    signed = sign(method, url, headers, b"", credentials=EXAMPLE, region_name=region, service=service, now=VECTOR_TIME)
    assert signed["X-Amz-Date"] == "20150830T123600Z"
    assert signed["Authorization"].endswith(f"Signature={signature}")
    assert f"Credential={AKID}/20150830/{region}/{service}/aws4_request" in signed["Authorization"]


def cloudwatch(answer: Any, status: int = 200, secret: str = SECRET) -> dict[tuple[str, str], Any]:
    async def api(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {"X-Amzn-RequestId": "c2d5a0f1-0000-4a5e-9f3a-0123456789ab"}
        problem = verify_signature(request.method, request.path, dict(request.query), dict(request.headers), body,
                                   secret, service="monitoring")
        if problem is not None:
            return web.json_response({"__type": problem, "message": "The request signature we calculated does not "
                                      "match the signature you provided."}, status=403, headers=headers)
        if request.headers.get("X-Amz-Target") != "GraniteServiceVersion20100801.GetMetricData" or \
                request.headers.get("Content-Type") != "application/x-amz-json-1.0":
            return web.json_response({"__type": "UnknownOperationException"}, status=400, headers=headers)
        return web.json_response(answer, status=status, headers=headers,
                                 content_type="application/x-amz-json-1.0")

    return {("POST", "/"): api}


def _metric(success: str = "all(result[0].Values, {# <= 0.01})", **cw: Any) -> Metric:
    query = {"id": "rate", "expression": "errors / requests", "label": "error rate", "period": 300}
    stat = {"id": "errors", "returnData": False, "metricStat": {"metric": {
        "namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count",
        "dimensions": [{"name": "LoadBalancer", "value": "app/my-lb/50dc6c495c0c9188"}]}, "period": 300, "stat": "Sum",
        "unit": "Count"}}
    return Metric.model_validate({"name": "errors", "successCondition": success, "provider": {"cloudWatch": {
        "interval": "10m", "metricDataQueries": [query, stat], **cw}}})


ANSWER = {"MetricDataResults": [{"Id": "rate", "Label": "error rate", "StatusCode": "Complete",
                                 "Timestamps": [T - 300, T - 600], "Values": [0.004, 0.006]}],
          "Messages": [], "NextToken": None}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_SESSION_TOKEN",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    return monkeypatch


async def test_get_metric_data_is_signed_and_judged(aws_env: pytest.MonkeyPatch) -> None:
    async with serve(cloudwatch(ANSWER)) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", server.base)
        m = await CloudWatchProvider(deps_with(now=NOW)).measure(_metric(), context())
    assert (m.phase, m.value, m.message) == (AnalysisPhase.SUCCESSFUL, "[[0.004 0.006]]", None)
    sent = json.loads(server.requests[0].body)
    assert sent == {"StartTime": T - 600, "EndTime": T, "MetricDataQueries": [
        {"Id": "rate", "Expression": "errors / requests", "Label": "error rate", "Period": 300},
        {"Id": "errors", "ReturnData": False, "MetricStat": {"Metric": {
            "MetricName": "HTTPCode_Target_5XX_Count", "Namespace": "AWS/ApplicationELB",
            "Dimensions": [{"Name": "LoadBalancer", "Value": "app/my-lb/50dc6c495c0c9188"}]},
            "Period": 300, "Stat": "Sum", "Unit": "Count"}}]}
    assert "/20260301/eu-west-1/monitoring/aws4_request" in server.requests[0].headers["Authorization"]


async def test_fields_of_the_results_reach_the_condition(aws_env: pytest.MonkeyPatch) -> None:
    answer = {**ANSWER, "Messages": [{"Code": "MaxQueryTimeRangeExceed", "Value": "capped"}]}
    async with serve(cloudwatch(answer)) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", server.base)
        m = await CloudWatchProvider(deps_with(now=NOW)).measure(
            _metric('result[0].Id == "rate" && result[0].StatusCode == "Complete" && len(result[0].Timestamps) == 2'),
            context())
    assert m.phase is AnalysisPhase.SUCCESSFUL
    assert m.metadata == {"messages": "[{Code:MaxQueryTimeRangeExceed Value:capped}]"}


@pytest.mark.parametrize(
    ("answer", "status", "secret", "message"),
    [
        pytest.param({"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException",
                      "message": "The value errors / requests for parameter MetricDataQueries.member.1.Expression "
                                 "is invalid."}, 400, SECRET,
                     "operation error CloudWatch: GetMetricData, https response error StatusCode: 400, RequestID: "
                     "c2d5a0f1-0000-4a5e-9f3a-0123456789ab, InvalidParameterValueException: The value errors / "
                     "requests for parameter MetricDataQueries.member.1.Expression is invalid.", id="invalid-parameter"),
        pytest.param({"__type": "Throttling", "message": "Rate exceeded"}, 400, SECRET,
                     "operation error CloudWatch: GetMetricData, https response error StatusCode: 400, RequestID: "
                     "c2d5a0f1-0000-4a5e-9f3a-0123456789ab, Throttling: Rate exceeded", id="throttled"),
        pytest.param(ANSWER, 200, "another-secret-key",
                     "operation error CloudWatch: GetMetricData, https response error StatusCode: 403, RequestID: "
                     "c2d5a0f1-0000-4a5e-9f3a-0123456789ab, SignatureDoesNotMatch: The request signature we "
                     "calculated does not match the signature you provided.", id="bad-signature"),
    ],
)
async def test_errors_are_worded_as_the_sdk(aws_env: pytest.MonkeyPatch, answer: Any, status: int, secret: str,
                                           message: str) -> None:
    async with serve(cloudwatch(answer, status, secret)) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", server.base)
        m = await CloudWatchProvider(deps_with(now=NOW)).measure(_metric(), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)
    assert SECRET not in (m.message or "")


async def test_no_region_or_no_credentials(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.delenv("AWS_REGION")
    m = await CloudWatchProvider(deps_with(now=NOW)).measure(_metric(), context())
    assert m.message == "failed to resolve service endpoint, an AWS region is required, but was not found"
    aws_env.setenv("AWS_REGION", "eu-west-1")
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    m = await CloudWatchProvider(deps_with(now=NOW)).measure(_metric(), context())
    assert (m.message or "").startswith("failed to refresh cached credentials")


STS_ANSWER = """<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLETOKEN</SessionToken>
      <SecretAccessKey>irsa-secret-EXAMPLE</SecretAccessKey>
      <Expiration>2026-03-01T13:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLEIRSA</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/rollouts/s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"""


async def test_irsa_web_identity_is_exchanged_with_sts(aws_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.service-account-token\n")

    async def sts(request: web.Request) -> web.Response:
        if request.query.get("Action") != "AssumeRoleWithWebIdentity" or \
                request.query.get("WebIdentityToken") != "eyJhbGciOiJSUzI1NiJ9.service-account-token":
            return web.Response(status=400, text="<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                                 "<Message>bad</Message></Error></ErrorResponse>")
        return web.Response(text=STS_ANSWER, content_type="text/xml")

    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    aws_env.setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/rollouts")
    async with serve({("GET", "/"): sts}) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_STS", server.base)
        found = await default_credentials()
    assert found == AwsCredentials("ASIAEXAMPLEIRSA", "irsa-secret-EXAMPLE", "FwoGZXIvYXdzEXAMPLETOKEN",
                                   datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    assert server.requests[0].query["RoleArn"] == "arn:aws:iam::111122223333:role/rollouts"


async def test_pod_identity_container_credentials_and_shared_file(aws_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def creds(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "pod-identity-token":
            return web.Response(status=401)
        return web.json_response({"AccessKeyId": "ASIAPOD", "SecretAccessKey": "pod-secret", "Token": "pod-session",
                                  "Expiration": "2026-03-01T18:00:00Z"})

    aws_env.delenv("AWS_ACCESS_KEY_ID")
    (tmp_path / "auth").write_text("pod-identity-token")
    aws_env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(tmp_path / "auth"))
    async with serve({("GET", "/v1/credentials"): creds}) as server:
        aws_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base}/v1/credentials")
        found = await default_credentials()
    assert (found.access_key_id, found.session_token) == ("ASIAPOD", "pod-session")
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = AKIASHARED\naws_secret_access_key = shared-secret\n")
    aws_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    assert (await default_credentials()).access_key_id == "AKIASHARED"
