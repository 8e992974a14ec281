"""The dashboard's HTTP side (aiohttp, already a dependency): the page, its JSON API, its event stream, actions.

Security model, in the order a request meets it:

- it binds 127.0.0.1 by default, and on a loopback address answers only requests whose Host is that address or
  `localhost` (a DNS-rebinding page cannot borrow the user's credentials through it);
- reads come from the shared caches; the API server sees one watch per kind, with the user's own kubeconfig
  credentials, so the dashboard can read and do exactly what the user may (a 403 becomes a sentence in the page);
- every action is a POST carrying the per-process CSRF token that only the served page knows, from the same
  origin (the Origin header must be this server's), else 403 before anything is sent to the cluster;
  `--read-only` refuses every action;
- Secrets are never watched or shown; everything from the cluster is JSON data that the page writes as text,
  and a Content-Security-Policy without inline scripts stops any markup that got through from running.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from aiohttp import web

from rollouts.cli.dashboard import network, pages
from rollouts.cli.errors import CliError

if TYPE_CHECKING:
    from rollouts.cli.dashboard.hub import Hub
    from rollouts.kube.client import KubeClient

STATIC = files("rollouts.cli.dashboard") / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
HUB: web.AppKey[Hub] = web.AppKey("hub")
CLIENT: web.AppKey[KubeClient] = web.AppKey("client")
SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ROWS: web.AppKey[pages.RowCache] = web.AppKey("rows")
ROWS_LOCK: web.AppKey[asyncio.Lock] = web.AppKey("rows_lock")
BODIES: web.AppKey[ListBodies] = web.AppKey("bodies")
APPLICATION_VERBS = ("sync", "refresh", "hard-refresh", "rollback")
ROLLOUT_VERBS = ("promote", "promote-full", "abort", "retry", "pause", "resume", "restart", "undo", "set-image")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Settings:
    def __init__(self, *, address: str, port: int, read_only: bool = False, token: str | None = None) -> None:
        self.address = address
        self.port = port
        self.read_only = read_only
        self.token = token or secrets.token_urlsafe(32)

    def allowed_hosts(self) -> set[str] | None:
        """The host names a request may be addressed to; None (any) when bound to a non-loopback address on
        purpose. A DNS-rebinding page reaches 127.0.0.1 under its own name, which is refused."""
        if self.address not in ("127.0.0.1", "::1", "localhost"):
            return None
        return {"127.0.0.1", "localhost", "::1"}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    allowed = settings.allowed_hosts()
    if allowed is not None and (request.url.host or "").strip("[]") not in allowed:
        return _error(403, f"host {request.host!r} is not this dashboard's address")
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("Origin")
        if origin != f"{request.scheme}://{request.host}":
            return _error(403, "cross-origin request refused (the Origin header must be this dashboard's)")
        token = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(token, settings.token):
            return _error(403, "missing or wrong CSRF token: reload the page")
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def index(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    html = html.replace("__CSRF_TOKEN__", settings.token).replace("__READ_ONLY__", str(settings.read_only).lower())
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or suffix not in types:
        raise web.HTTPNotFound()
    resource = STATIC / name
    if not resource.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=resource.read_bytes(), content_type=types[suffix])


def _namespace_filter(request: web.Request) -> str | None:
    return request.query.get("namespace") or None


class ListBodies:
    """The encoded answer of each list URL, kept until a kind it is computed from changes or the problems
    shown with it do. Every open tab asks again after each change; with this, a thousand-row list is computed
    and encoded once per change of its kinds (not per Event elsewhere), however many tabs ask, and a tab whose
    copy is current gets a 304 (the ETag is the body's hash: it never matches a different answer, even one
    from another process)."""

    def __init__(self) -> None:
        self._bodies: dict[str, tuple[tuple[object, ...], bytes, str]] = {}

    def get(self, url: str, depends: tuple[object, ...]) -> tuple[bytes, str] | None:
        known = self._bodies.get(url)
        return (known[1], known[2]) if known is not None and known[0] == depends else None

    def put(self, url: str, depends: tuple[object, ...], answer: dict[str, Any]) -> tuple[bytes, str]:
        body = json.dumps(answer, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self._bodies[url] = (depends, body, etag)
        return body, etag


def _list_response(request: web.Request, body: bytes, etag: str) -> web.Response:
    # no-cache: the browser keeps the copy but asks every time; a matching If-None-Match is answered 304
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


LIST_KINDS = ("rollouts", "replicasets", "pods")
NETWORK_KINDS = ("services", "ingresses", "httproutes")


async def rollouts_body(app: web.Application, ns: str | None) -> tuple[bytes, str]:
    """The Rollouts list for a namespace (None: all), encoded, from the bodies cache when still current."""
    hub, url = app[HUB], f"rollouts?{ns or ''}"

    def depends() -> tuple[object, ...]:
        return (*hub.versions(*LIST_KINDS), *hub.problems(*LIST_KINDS))

    known = app[BODIES].get(url, depends())
    if known is not None:
        return known
    # Rows are computed in a thread (a cold list of 1,000 costs about a second of CPU), so the event loop keeps
    # serving event streams and other tabs meanwhile; one computation at a time (the row cache is not shared).
    async with app[ROWS_LOCK]:
        current = depends()  # the caches may have moved, or another request computed it, meanwhile
        known = app[BODIES].get(url, current)
        if known is not None:
            return known
        snapshot = hub.items("rollouts", ns), hub.items("replicasets", ns), hub.items("pods", ns)
        problems = hub.problems(*LIST_KINDS)
        rows = await asyncio.to_thread(app[ROWS].rows, *snapshot)
    return app[BODIES].put(url, current, {"items": rows, "problems": problems})


async def list_rollouts(request: web.Request) -> web.Response:
    return _list_response(request, *await rollouts_body(request.app, _namespace_filter(request)))


async def warm_rollouts(app: web.Application, *, timeout: float = 120) -> None:
    """Compute the all-namespaces Rollouts list once the caches are filled, so the first page load does not
    pay for parsing every Rollout (about a second for a thousand on a loaded machine)."""
    await app[HUB].wait_synced(timeout)
    await rollouts_body(app, None)


async def get_rollout(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    ns, name = request.match_info["namespace"], request.match_info["name"]
    rollout = hub.get("rollouts", ns, name)
    problems = hub.problems("rollouts", "replicasets", "pods", "analysisruns", "events")
    if rollout is None:
        return web.json_response({"error": f"rollout '{name}' not found in namespace '{ns}'",
                                  "problems": problems}, status=404)
    detail = pages.rollout_detail(rollout, hub.items("replicasets", ns), hub.items("pods", ns),
                                  hub.items("analysisruns", ns), hub.items("events", ns))
    return web.json_response({**detail, "problems": problems, "version": hub.version})


async def list_applications(request: web.Request) -> web.Response:
    hub, ns = request.app[HUB], _namespace_filter(request)
    url, problems = f"applications?{ns or ''}", hub.problems("applications")
    depends = (*hub.versions("applications"), *problems)
    known = request.app[BODIES].get(url, depends)
    if known is None:
        rows = sorted((pages.application_row(a) for a in hub.items("applications", ns)),
                      key=lambda r: (r["namespace"], r["name"]))
        known = request.app[BODIES].put(url, depends, {"items": rows, "problems": problems})
    return _list_response(request, *known)


async def get_application(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    ns, name = request.match_info["namespace"], request.match_info["name"]
    app = hub.get("applications", ns, name)
    problems = hub.problems("applications", "rollouts", "deployments", "replicasets", "pods", "events",
                            *NETWORK_KINDS)
    if app is None:
        return web.json_response({"error": f"application '{name}' not found in namespace '{ns}'",
                                  "problems": problems}, status=404)
    live = {(o["kind"], str(o["metadata"].get("namespace") or ""), str(o["metadata"]["name"])): o
            for plural in ("rollouts", "deployments") for o in hub.items(plural)}
    owned = hub.items("replicasets") + hub.items("pods")
    detail = pages.application_detail(app, live, owned, hub.items("events", ns))
    resources = [r for r in (app.get("status") or {}).get("resources") or () if isinstance(r, dict)]
    namespaces = sorted({str(r.get("namespace") or "") for r in resources})
    caches = {plural: [o for n in namespaces for o in hub.items(plural, n)]
              for plural in ("rollouts", "replicasets", "pods", *NETWORK_KINDS)}
    detail["network"] = network.network_view(resources, caches)
    return web.json_response({**detail, "problems": problems, "version": hub.version})


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `event: change` with the hub's version whenever the caches changed, and a comment
    every 15 s so proxies keep the connection open."""
    hub = request.app[HUB]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    queue = hub.subscribe()
    try:
        sent = hub.version
        await response.write(f"event: change\ndata: {sent}\n\n".encode())
        while True:
            try:
                version = await asyncio.wait_for(queue.get(), 15)
                if version <= sent:
                    continue  # a flush already pending when the page connected: it has that version
                sent = version
                await response.write(f"event: change\ndata: {version}\n\n".encode())
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
    except ConnectionResetError:
        pass  # the tab was closed
    finally:
        hub.unsubscribe(queue)
    return response


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"the request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise CliError("the request body must be a JSON object")
    return body


async def perform(client: KubeClient, verb: str, name: str, namespace: str, body: dict[str, Any]) -> str:
    """A Rollout button: the plugin's own command body (rollouts.cli.actions), so the same patches are sent."""
    from rollouts.cli import actions

    if verb == "set-image":
        assignment = actions.image_assignment(str(body.get("assignment") or ""))
        return await actions.set_image(client, name, namespace, assignment)
    if verb == "undo":
        revision = body.get("toRevision", 0)
        if not isinstance(revision, int):
            raise CliError(f"toRevision must be an integer, not {revision!r}")
        return await actions.undo(client, name, namespace, revision)
    if verb == "restart":
        text = str(body.get("in") or "")
        planner = actions.planner_for("restart", at=actions.restart_time(text), delay_text=text or "0s")
    else:
        planner = actions.planner_for("promote" if verb == "promote-full" else verb, full=verb == "promote-full")
    return await actions.run_action(client, name, namespace, verb=verb.split("-")[0], planner=planner)


def _status_of(exc: CliError) -> int:
    from rollouts.kube.errors import ApiError

    cause = exc.__cause__
    if isinstance(cause, ApiError) and cause.status in (401, 403, 404, 409, 422):
        return cause.status
    return 400


async def rollout_action(request: web.Request) -> web.Response:
    if request.app[SETTINGS].read_only:
        return _error(403, "this dashboard is read-only (started with --read-only)")
    verb = request.match_info["action"]
    if verb not in ROLLOUT_VERBS:
        return _error(404, f"unknown action {verb!r}; one of {', '.join(ROLLOUT_VERBS)}")
    ns, name = request.match_info["namespace"], request.match_info["name"]
    try:
        message = await perform(request.app[CLIENT], verb, name, ns, await _body(request))
    except CliError as exc:
        return _error(_status_of(exc), str(exc))
    return web.json_response({"message": message})


async def perform_on_application(client: KubeClient, verb: str, name: str, namespace: str,
                                 body: dict[str, Any]) -> str:
    """An Application button: the `app` commands' own requests (rollouts.cli.app); Rollback sends what
    `app rollback NAME ID --async` sends and answers with its line."""
    from rollouts.cli import app as app_cli
    from rollouts.cli.errors import Target, explain
    from rollouts.kube.errors import ApiError

    try:
        if verb == "sync":
            await app_cli.request_sync(client, name, namespace, {"prune": False})
            return f"sync of application '{name}' requested"
        if verb == "rollback":
            entry = body.get("id")
            if not isinstance(entry, int) or isinstance(entry, bool):
                raise CliError(f"id must be the history entry's number, not {entry!r}")
            what = await app_cli.request_rollback(client, name, namespace, entry, prune=False)
            return f"rollback of application '{name}' to {what} requested"
        await app_cli.request_refresh(client, name, namespace, hard=verb == "hard-refresh")
    except ApiError as exc:
        raise explain(exc, Target(verb, "application", name, namespace)) from exc
    return f"{verb} of application '{name}' requested"


SECRET_HIDDEN = "(a Secret: the dashboard never shows Secret data, so only the fact that it differs is shown)"


async def application_diff(request: web.Request) -> web.Response:
    """What a sync would change, live -> desired, from `app diff`'s own comparison (Git rendered, compared
    with a server-side dry run, with the user's credentials); a Secret's contents are never sent."""
    from rollouts.cli import app as app_cli
    from rollouts.cli.errors import Target, explain
    from rollouts.kube.errors import ApiError

    ns, name = request.match_info["namespace"], request.match_info["name"]
    try:
        try:
            changes = await app_cli.app_changes(request.app[CLIENT], name, ns)
        except ApiError as exc:
            raise explain(exc, Target("diff", "application", name, ns)) from exc
    except CliError as exc:
        return _error(_status_of(exc), str(exc))
    return web.json_response({"resources": [
        {"kind": c.kind, "key": c.key, "change": c.change, "text": SECRET_HIDDEN if c.kind == "Secret" else c.text}
        for c in changes]})


async def application_action(request: web.Request) -> web.Response:
    if request.app[SETTINGS].read_only:
        return _error(403, "this dashboard is read-only (started with --read-only)")
    verb = request.match_info["action"]
    if verb not in APPLICATION_VERBS:
        return _error(404, f"unknown action {verb!r}; one of {', '.join(APPLICATION_VERBS)}")
    ns, name = request.match_info["namespace"], request.match_info["name"]
    try:
        message = await perform_on_application(request.app[CLIENT], verb, name, ns, await _body(request))
    except CliError as exc:
        return _error(_status_of(exc), str(exc))
    return web.json_response({"message": message})


def make_app(hub: Hub, client: KubeClient, settings: Settings) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[HUB], app[CLIENT], app[SETTINGS], app[ROWS] = hub, client, settings, pages.RowCache()
    app[ROWS_LOCK], app[BODIES] = asyncio.Lock(), ListBodies()
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/rollouts", list_rollouts)
    app.router.add_get("/api/rollouts/{namespace}/{name}", get_rollout)
    app.router.add_post("/api/rollouts/{namespace}/{name}/{action}", rollout_action)
    app.router.add_get("/api/applications", list_applications)
    app.router.add_get("/api/applications/{namespace}/{name}", get_application)
    app.router.add_get("/api/applications/{namespace}/{name}/diff", application_diff)
    app.router.add_post("/api/applications/{namespace}/{name}/{action}", application_action)
    app.router.add_get("/api/stream", stream)
    return app


async def serve(hub: Hub, client: KubeClient, settings: Settings, *, ready: Callable[[str], None]) -> None:
    """Run the informers and the web server until cancelled; `ready(url)` once it listens."""
    app = make_app(hub, client, settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.address, settings.port)
        await site.start()
        host = f"[{settings.address}]" if ":" in settings.address else settings.address
        ready(f"http://{host}:{settings.port}/")
        watches = asyncio.create_task(hub.run())
        warming = asyncio.create_task(warm_rollouts(app))
        try:
            await watches
        finally:
            for task in (warming, watches):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await runner.cleanup()
