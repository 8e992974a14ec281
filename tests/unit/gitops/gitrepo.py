"""A real Git repository for tests: a bare 'remote' plus a work tree the test commits to."""

from __future__ import annotations

import base64
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml


class GitRepo:
    def __init__(self, root: Path, *, branch: str = "main") -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        self.branch = branch
        root.mkdir(parents=True, exist_ok=True)
        self._git("init", "--bare", "--quiet", f"--initial-branch={branch}", str(self.bare), cwd=root)
        self._git("init", "--quiet", f"--initial-branch={branch}", str(self.work), cwd=root)
        self._git("remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp"}
        return subprocess.run(["git", *args], cwd=cwd or self.work, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    def write(self, path: str, content: str | list[dict[str, Any]] | dict[str, Any]) -> None:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content)
        elif isinstance(content, list):
            target.write_text(yaml.safe_dump_all(content))
        else:
            target.write_text(yaml.safe_dump(content))

    def remove(self, path: str) -> None:
        (self.work / path).unlink()

    def commit(self, message: str = "change", *, push: bool = True) -> str:
        self._git("add", "-A")
        self._git("commit", "--quiet", "--allow-empty", "-m", message)
        if push:
            self._git("push", "--quiet", "--force", "origin", f"HEAD:{self.branch}")
        return self._git("rev-parse", "HEAD")

    def tag(self, name: str) -> None:
        self._git("tag", "-f", name)
        self._git("push", "--quiet", "--force", "origin", f"refs/tags/{name}")

    def push_branch(self, name: str) -> None:
        self._git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{name}")


@contextlib.asynccontextmanager
async def http_remote(repo: GitRepo, *, user: str, password: str,
                      seen_auth: list[str] | None = None) -> AsyncIterator[str]:
    """Serve `repo` over git's dumb HTTP protocol on 127.0.0.1 with basic auth; yields the clone URL.

    Every Authorization header received is appended to `seen_auth` when given.
    """
    from aiohttp import web

    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    async def serve(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if seen_auth is not None:
            seen_auth.append(header)
        if header != expected:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="git"'})
        target = (repo.bare / request.match_info["path"]).resolve()
        if not target.is_file() or repo.bare.resolve() not in target.parents:
            return web.Response(status=404)
        return web.FileResponse(target)

    app = web.Application()
    app.router.add_get("/repo.git/{path:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/repo.git"
    finally:
        await runner.cleanup()
