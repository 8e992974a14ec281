"""AWS for the providers that call it (CloudWatch, Prometheus with `authentication.sigv4` for Amazon Managed
Prometheus): the SDK's default credential chain, the region, and Signature Version 4.

Argo uses aws-sdk-go-v2's `config.LoadDefaultConfig`; the same sources are read here, in the same order:

1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
2. web identity (IRSA on EKS): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (AWS_ROLE_SESSION_NAME), exchanged
   with STS AssumeRoleWithWebIdentity (unsigned, as the SDK does);
3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), profile
   AWS_PROFILE (default `default`);
4. container credentials (EKS Pod Identity, ECS): AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with
   AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
5. the EC2 instance role through IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true).

Temporary credentials are cached until five minutes before they expire. The region is AWS_REGION, else
AWS_DEFAULT_REGION, else the profile's `region` in ~/.aws/config (AWS_CONFIG_FILE). Endpoints follow the SDK's
overrides (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), which is also how tests reach a local server.

`sign` is SigV4 as AWS documents it (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
checked against AWS's published test vectors in the unit tests.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from analysis.providers.http import HttpError, request, with_query

IMDS = "http://169.254.169.254"
ECS_HOST = "http://169.254.170.2"
REFRESH_MARGIN = timedelta(minutes=5)


class AwsError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expires: datetime | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.secret_access_key, self.session_token) if s)


def endpoint(service_env: str, default: str, environ: Mapping[str, str]) -> str:
    """The SDK's endpoint override for a service (AWS_ENDPOINT_URL_CLOUDWATCH, ...), else `default`."""
    return (environ.get(f"AWS_ENDPOINT_URL_{service_env}") or environ.get("AWS_ENDPOINT_URL") or default).rstrip("/")


def _ini(path: str, section: str) -> dict[str, str]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return {}
    return dict(parser[section]) if parser.has_section(section) else {}


def _profile(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def region(environ: Mapping[str, str] | None = None, explicit: str | None = None) -> str:
    env = os.environ if environ is None else environ
    if explicit:
        return explicit
    found = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not found:
        profile = _profile(env)
        config = env.get("AWS_CONFIG_FILE") or str(Path.home() / ".aws" / "config")
        found = _ini(config, profile if profile == "default" else f"profile {profile}").get("region")
    if not found:
        raise AwsError("failed to resolve service endpoint, an AWS region is required, but was not found")
    return found


def _read_token(path: str) -> str:
    """A projected service-account token or container authorization token: a few hundred bytes on a tmpfs."""
    return Path(path).read_text().strip()


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _web_identity(env: Mapping[str, str]) -> AwsCredentials | None:
    token_file, role = env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), env.get("AWS_ROLE_ARN")
    if not token_file or not role:
        return None
    try:
        token = _read_token(token_file)
    except OSError as exc:
        raise AwsError(f"failed to retrieve credentials, unable to read file at {token_file}: {exc}") from None
    where = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    sts = endpoint("STS", f"https://sts.{where}.amazonaws.com", env)
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
              "RoleSessionName": env.get("AWS_ROLE_SESSION_NAME") or f"rollouts-{int(datetime.now(UTC).timestamp())}",
              "WebIdentityToken": token}
    response = await request("GET", with_query(sts + "/", params), timeout=10, secrets=(token,))
    if not response.ok:
        raise AwsError(f"failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, "
                       f"https response error StatusCode: {response.status}, {_xml_error(response.text)}")
    return _sts_credentials(response.text)


def _sts_credentials(text: str) -> AwsCredentials:
    """The Credentials element of an STS AssumeRole* answer."""
    found = {el.tag.rsplit("}", 1)[-1]: el.text or "" for el in ET.fromstring(text).iter()}
    return AwsCredentials(found.get("AccessKeyId", ""), found.get("SecretAccessKey", ""), found.get("SessionToken"),
                          _time(found.get("Expiration")))


async def assume_role(base: AwsCredentials, role_arn: str, *, region_name: str, now: datetime,
                      environ: Mapping[str, str]) -> AwsCredentials:
    """STS AssumeRole signed with `base` (Prometheus sigv4's `roleArn`)."""
    sts = endpoint("STS", f"https://sts.{region_name}.amazonaws.com", environ)
    params = {"Action": "AssumeRole", "RoleArn": role_arn, "RoleSessionName": f"rollouts-{int(now.timestamp())}",
              "Version": "2011-06-15"}
    url = with_query(sts + "/", params)
    headers = sign("GET", url, {}, b"", credentials=base, region_name=region_name, service="sts", now=now)
    response = await request("GET", url, headers=headers, timeout=10, secrets=base.secrets)
    if not response.ok:
        raise AwsError(f"failed to retrieve credentials, operation error STS: AssumeRole, https response error "
                       f"StatusCode: {response.status}, {_xml_error(response.text)}")
    return _sts_credentials(response.text)


def _xml_error(text: str) -> str:
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return f"api error {code.group(1) if code else 'Unknown'}: {message.group(1) if message else text[:200]}"


def _shared_file(env: Mapping[str, str]) -> AwsCredentials | None:
    path = env.get("AWS_SHARED_CREDENTIALS_FILE") or str(Path.home() / ".aws" / "credentials")
    section = _ini(path, _profile(env))
    if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
        return AwsCredentials(section["aws_access_key_id"], section["aws_secret_access_key"],
                              section.get("aws_session_token"))
    return None


def _from_json(body: object) -> AwsCredentials:
    if not isinstance(body, dict) or not body.get("AccessKeyId"):
        raise AwsError("failed to refresh cached credentials, invalid credentials response")
    return AwsCredentials(str(body["AccessKeyId"]), str(body.get("SecretAccessKey", "")), body.get("Token"),
                          _time(body.get("Expiration")))


async def _container(env: Mapping[str, str]) -> AwsCredentials | None:
    url = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not url and env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        url = ECS_HOST + env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    if not url:
        return None
    token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        token = _read_token(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
    response = await request("GET", url, headers={"Authorization": token} if token else {}, timeout=5,
                             secrets=(token,) if token else ())
    if not response.ok:
        raise AwsError(f"failed to refresh cached credentials, container credentials: HTTP {response.status}")
    return _from_json(response.json())


async def _instance_role(env: Mapping[str, str]) -> AwsCredentials | None:
    if env.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return None
    base = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", IMDS).rstrip("/")
    try:
        token = await request("PUT", base + "/latest/api/token", timeout=1,
                              headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        headers = {"X-aws-ec2-metadata-token": token.text} if token.ok else {}
        roles = await request("GET", base + "/latest/meta-data/iam/security-credentials/", headers=headers, timeout=1)
        if not roles.ok or not roles.text.strip():
            return None
        role = roles.text.split()[0]
        found = await request("GET", f"{base}/latest/meta-data/iam/security-credentials/{role}", headers=headers,
                              timeout=1)
    except HttpError:
        return None
    return _from_json(found.json()) if found.ok else None


async def default_credentials(environ: Mapping[str, str] | None = None) -> AwsCredentials:
    """The first source of the SDK's default chain that has credentials."""
    env = os.environ if environ is None else environ
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return AwsCredentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))
    found = await _web_identity(env) or _shared_file(env)
    if found is None:
        found = await _container(env)
    if found is None:
        found = await _instance_role(env)
    if found is None:
        raise AwsError("failed to refresh cached credentials, no EC2 IMDS role found: no AWS credentials in the "
                       "environment, web identity, shared credentials file or container credentials")
    return found


class CredentialCache:
    """One provider's credentials; temporary ones are fetched again five minutes before they expire."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ
        self._cached: dict[tuple[str | None, str | None], AwsCredentials] = {}

    async def get(self, now: datetime, *, profile: str | None = None, role_arn: str | None = None,
                  region_name: str | None = None) -> AwsCredentials:
        """Credentials of the default chain (with AWS_PROFILE=`profile`), or of `role_arn` assumed with them."""
        key = (profile, role_arn)
        cached = self._cached.get(key)
        if cached is not None and cached.expires is not None and cached.expires - REFRESH_MARGIN > now:
            return cached
        env = dict(os.environ if self.environ is None else self.environ)
        if profile:
            env["AWS_PROFILE"] = profile
        found = await default_credentials(env)
        if role_arn:
            found = await assume_role(found, role_arn, region_name=region_name or region(env), now=now, environ=env)
        if found.expires is not None:
            self._cached[key] = found
        return found


def _uri_encode(text: str, *, slash: bool) -> str:
    return quote(text, safe="-_.~" + ("/" if not slash else ""))


def canonical_request(method: str, url: str, headers: Mapping[str, str], payload_hash: str) -> tuple[str, str]:
    """(canonical request, signed headers) of SigV4."""
    parts = urlsplit(url)
    path = "/".join(_uri_encode(segment, slash=True) for segment in (parts.path or "/").split("/"))
    pairs = sorted((_uri_encode(k, slash=True), _uri_encode(v, slash=True))
                   for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    lowered = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    names = sorted(lowered)
    signed = ";".join(names)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    return "\n".join([method, path, query, canonical_headers, signed, payload_hash]), signed


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes, *, credentials: AwsCredentials,
         region_name: str, service: str, now: datetime) -> dict[str, str]:
    """`headers` plus host, X-Amz-Date, X-Amz-Security-Token and the SigV4 Authorization for this request."""
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed_headers = {**headers, "Host": urlsplit(url).netloc, "X-Amz-Date": amz_date}
    if credentials.session_token:
        signed_headers["X-Amz-Security-Token"] = credentials.session_token
    canonical, names = canonical_request(method, url, signed_headers, hashlib.sha256(body).hexdigest())
    scope = f"{day}/{region_name}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + credentials.secret_access_key).encode(), day)
    for part in (region_name, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed_headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
                                       f"SignedHeaders={names}, Signature={signature}")
    return signed_headers


def json_error(status: int, headers: Mapping[str, str], text: str, *, service: str, operation: str) -> str:
    """An AWS JSON-protocol error as aws-sdk-go-v2 words it: `operation error CloudWatch: GetMetricData, https
    response error StatusCode: 400, RequestID: ..., InvalidParameterValue: ...`."""
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("__type") or headers.get("X-Amzn-ErrorType") or "UnknownError").rsplit("#", 1)[-1]
    code = code.split(":", 1)[0]
    message = body.get("message") or body.get("Message") or ""
    request_id = headers.get("X-Amzn-RequestId") or headers.get("x-amzn-RequestId") or ""
    return (f"operation error {service}: {operation}, https response error StatusCode: {status}, RequestID: "
            f"{request_id}, {code}: {message}")
