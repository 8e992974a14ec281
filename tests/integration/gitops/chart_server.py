"""A real Helm chart repository for tests: charts packaged by the testbed's ``helm package``, the index written by
``helm repo index``, served over HTTP on 127.0.0.1 (with basic auth when credentials are given), as a static
server in front of ``helm repo index`` output or ChartMuseum gives it to a Helm user."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import yaml
from aiohttp import web

TEMPLATES = {
    "config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
                   "data:\n  color: {{ .Values.color | quote }}\n  chart: {{ .Chart.Version | quote }}\n",
    "extra.yaml": "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                  "  name: {{ .Release.Name }}-extra\ndata:\n  on: \"yes\"\n{{- end }}\n",
}


class ChartRepository:
    """A directory of packaged charts (chart "web") and its index."""

    def __init__(self, root: Path, *, user: str | None = None, password: str | None = None) -> None:
        self.root = root
        self.charts = root / "repo"
        self.charts.mkdir(parents=True)
        self.url = ""
        self.requests: list[str] = []
        self.user, self.password = user, password
        helm = os.environ.get("ROLLOUTS_HELM_PATH") or "helm"
        self.helm = str(Path(helm) / "helm") if Path(helm).is_dir() else helm

    def publish(self, version: str, *, color: str, extra: bool) -> None:
        src = self.root / "src" / version / "web"
        (src / "templates").mkdir(parents=True)
        (src / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "web", "version": version}))
        (src / "values.yaml").write_text(yaml.safe_dump({"color": color, "extra": extra}))
        for name, text in TEMPLATES.items():
            (src / "templates" / name).write_text(text)
        for args in ([self.helm, "package", str(src), "-d", str(self.charts)],
                     [self.helm, "repo", "index", str(self.charts)]):
            subprocess.run(args, check=True, capture_output=True)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        if self.user is not None:
            expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="charts"'})
        path = self.charts / request.match_info["name"]
        if not path.is_file():
            return web.Response(status=404)
        return web.FileResponse(path)


@contextlib.asynccontextmanager
async def serve_charts(repository: ChartRepository) -> AsyncIterator[ChartRepository]:
    """Serve ``repository`` at http://127.0.0.1:<free port>/stable until the block ends."""
    app = web.Application()
    app.router.add_get("/stable/{name}", repository.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    repository.url = f"http://127.0.0.1:{runner.addresses[0][1]}/stable"
    try:
        yield repository
    finally:
        await runner.cleanup()
