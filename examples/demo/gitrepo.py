"""The demo's Git server: a bare "remote" the Application follows and the working clone the demo commits to.

Why it exists: the story is GitOps, so every change reaches the cluster as a pushed commit. The remote's
post-receive hook tells the controller about each push the way GitHub would (a signed push webhook), so
the reconciler refreshes within a second instead of at its next poll; if the hook cannot reach the
controller, polling still picks the commit up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sandbox import DemoFailed

IMAGE = "registry.example.com/demo-app"


class GitRepo:
    """A bare "remote" the Application points at, and the working clone the demo commits to."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--bare", "--quiet", "--initial-branch=main", str(self.bare), cwd=root)
        self.git("init", "--quiet", "--initial-branch=main", str(self.work), cwd=root)
        self.git("remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
               "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}
        done = subprocess.run(["git", *args], cwd=cwd or self.work, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise DemoFailed(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def install_push_hook(self, webhook: str, secret: str) -> None:
        """post-receive: tell the controller about the push the way GitHub would (signed JSON payload)."""
        hook = self.bare / "hooks" / "post-receive"
        hook.write_text(f"""#!{sys.executable}
# Sends a GitHub-style push event to the rollouts controller's webhook for each pushed ref.
import hashlib, hmac, json, sys, urllib.request
for line in sys.stdin:
    old, new, ref = line.split()
    body = json.dumps({{"ref": ref, "after": new,
                        "repository": {{"url": {self.url!r}, "default_branch": "main"}}}}).encode()
    sig = "sha256=" + hmac.new({secret!r}.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request({webhook!r}, data=body, headers={{
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": sig}})
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except Exception as exc:
        print(f"webhook not delivered ({{exc}}); the controller will poll", file=sys.stderr)
""")
        hook.chmod(0o755)

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")

    def set_image_tag(self, tag: str) -> None:
        path = self.work / "app" / "rollout.yaml"
        text = path.read_text()
        lines = [f"{line.split(IMAGE)[0]}{IMAGE}:{tag}" if f"{IMAGE}:" in line else line for line in text.split("\n")]
        path.write_text("\n".join(lines))
