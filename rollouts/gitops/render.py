"""Rendering an application's source into manifests: plain directories, kustomize, helm.

Why this module exists: the same Application source can be a folder of YAML/JSON files, a kustomization or a
Helm chart, and Argo CD picks the tool from the source (``kustomize:``/``helm:`` blocks) or from the files
(``kustomization.yaml``, ``Chart.yaml``). Each tool is one ``ManifestRenderer`` chosen from the registry in
``renderers.py``; the
tools are the real binaries (``kustomize`` or ``kubectl kustomize``, ``helm template``), run asynchronously.
Output is validated (every document a mapping with apiVersion, kind and a name) so a broken commit becomes
one clear ComparisonError naming the file, never a half-rendered set that would prune the rest. Renders are
cached by commit and source settings: the same commit is rendered once, not once per reconcile.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

import yaml

from rollouts.api.application import ApplicationSource, HelmSource, KustomizeSource

Manifest = dict[str, Any]
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class RenderError(Exception):
    """The source could not be turned into manifests; the message names the file or the tool's error."""


def _load_documents(text: str, origin: str) -> list[Manifest]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise RenderError(f"{origin}: invalid YAML: {exc}") from None
    out: list[Manifest] = []
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        where = f"{origin} (document {index + 1})"
        if not isinstance(doc, dict):
            raise RenderError(f"{where}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                out.append(_validated(item, where))
            continue
        out.append(_validated(doc, where))
    return out


def _validated(doc: Any, where: str) -> Manifest:
    if not isinstance(doc, dict):
        raise RenderError(f"{where}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
    missing = [f for f in ("apiVersion", "kind") if not isinstance(doc.get(f), str) or not doc.get(f)]
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        missing.append("metadata.name")
    if missing:
        raise RenderError(f"{where}: object is missing {', '.join(missing)}")
    return doc


def parse_manifests(text: str, origin: str) -> list[Manifest]:
    """Parse a YAML/JSON stream (as a tool prints it) into validated objects; errors name ``origin``."""
    return _load_documents(text, origin)


def expand_braces(pattern: str) -> list[str]:
    """Argo CD's include/exclude accept ``{a.yaml,b.yaml}``: ``"{a,b}*.yaml"`` -> ["a*.yaml", "b*.yaml"]."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end():]
    return [out for alt in match.group(1).split(",") for out in expand_braces(head + alt + tail)]


def _glob_match(relative: str, pattern: str | None) -> bool:
    if not pattern:
        return False
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatchcase(relative, p) or fnmatchcase(name, p) for p in expand_braces(pattern))


def resolve_app_path(root: Path, path: str) -> Path:
    """The application directory inside a checkout; refuses paths that leave the repository."""
    target = (root / path).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise RenderError(f"app path {path!r} points outside the repository")
    if not target.is_dir():
        raise RenderError(f"app path does not exist: {path!r}")
    return target


# -- renderers -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClusterCapabilities:
    """What the destination cluster offers, as Argo CD tells ``helm template`` (``--kube-version``,
    ``--api-versions``), so charts that test ``.Capabilities`` render for the cluster they go to.

    ``api_versions`` holds ``group/version`` and ``group/version/Kind`` entries ("v1", "apps/v1",
    "apps/v1/Deployment"), Argo CD's form."""

    kube_version: str = ""
    api_versions: tuple[str, ...] = ()


class ManifestRenderer(Protocol):
    """One rendering tool, chosen as Argo CD chooses (``renderers.choose_renderer``)."""

    name: str
    """Argo CD's source type ("Directory", "Kustomize", "Helm"), written to ``status.sourceType``."""

    def selected_by(self, source: ApplicationSource) -> bool:
        """Whether the source asks for this tool explicitly (its block, e.g. ``helm:``, is set)."""
        ...

    def detects(self, app_dir: Path) -> bool:
        """Whether the files say so (``Chart.yaml``, ``kustomization.yaml``); asked when no block is set."""
        ...

    async def render(self, app_dir: Path, source: ApplicationSource, *, release: str, namespace: str,
                     cluster: ClusterCapabilities | None = None) -> list[Manifest]:
        ...


class DirectoryRenderer:
    """YAML/JSON files of a directory, optionally recursing, filtered by include/exclude globs."""

    name = "Directory"

    def selected_by(self, source: ApplicationSource) -> bool:
        return source.directory is not None

    def detects(self, app_dir: Path) -> bool:
        return True  # the fallback: any directory of YAML/JSON files

    async def render(self, app_dir: Path, source: ApplicationSource, *, release: str, namespace: str,
                     cluster: ClusterCapabilities | None = None) -> list[Manifest]:
        directory = source.directory
        return await asyncio.to_thread(
            read_directory, app_dir, recurse=bool(directory and directory.recurse),
            include=directory.include if directory else None, exclude=directory.exclude if directory else None,
        )


def read_directory(app_dir: Path, *, recurse: bool, include: str | None, exclude: str | None) -> list[Manifest]:
    """Manifests of the YAML/JSON files in ``app_dir`` (hidden files skipped), in path order."""
    files = sorted(app_dir.rglob("*") if recurse else app_dir.glob("*"))
    out: list[Manifest] = []
    for file in files:
        if not file.is_file() or file.suffix not in _MANIFEST_SUFFIXES:
            continue
        relative = file.relative_to(app_dir).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        if include and not _glob_match(relative, include):
            continue
        if _glob_match(relative, exclude):
            continue
        out.extend(_load_documents(file.read_text(errors="replace"), relative))
    return out


async def run_tool(args: list[str], *, cwd: Path, tool: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RenderError(f"{tool} timed out after 120s") from None
    if proc.returncode != 0:
        raise RenderError(f"{tool} failed: {err.decode(errors='replace').strip()}")
    return out.decode(errors="replace")


def _image_entry(spec: str) -> dict[str, str]:
    """Argo CD's kustomize image syntax ``[old=]new[:tag|@digest]`` -> a kustomization ``images`` entry.

    "nginx:1.25" -> {name: nginx, newTag: "1.25"}; "nginx=ghcr.io/x/nginx@sha256:ab" -> {name: nginx,
    newName: ghcr.io/x/nginx, digest: "sha256:ab"}.
    """
    old, sep, new = spec.partition("=")
    if not sep:
        new = spec
    entry: dict[str, str] = {}
    if "@" in new:
        name, entry["digest"] = new.split("@", 1)
    elif ":" in new.rsplit("/", 1)[-1]:
        name, entry["newTag"] = new.rsplit(":", 1)
    else:
        name = new
    old_name = re.split(r"[@]", old)[0] if sep else name
    if sep and ":" in old_name.rsplit("/", 1)[-1]:
        old_name = old_name.rsplit(":", 1)[0]
    entry["name"] = old_name
    if name != old_name:
        entry["newName"] = name
    return entry


def _components(relative_path: str, settings: KustomizeSource, app_dir: Path | None) -> list[str]:
    base = Path(relative_path)
    components = []
    for component in settings.components or ():
        if app_dir is not None and not (app_dir / component).is_dir():
            if settings.ignore_missing_components:
                continue
            raise RenderError(f"kustomize component {component!r} does not exist in the application's path")
        components.append((base / component).as_posix())
    return components


def _patches(settings: KustomizeSource, app_dir: Path | None) -> list[dict[str, Any]]:
    patches = []
    for patch in settings.patches or ():
        entry = patch.model_dump(by_alias=True, exclude_none=True)
        if patch.path is not None:
            file = (app_dir / patch.path) if app_dir is not None else None
            if file is None or not file.is_file():
                raise RenderError(f"kustomize patch file {patch.path!r} does not exist in the application's path")
            entry.pop("path")
            entry["patch"] = file.read_text()
        patches.append(entry)
    return patches


def kustomize_overlay(relative_path: str, settings: KustomizeSource, app_dir: Path | None = None) -> dict[str, Any]:
    """A kustomization that wraps the app's one with the source's ``kustomize:`` settings.

    Components and patch files are relative to the app directory (``app_dir``), as in Argo CD; a patch file is
    inlined, since kustomize would refuse a file outside the overlay's own root. A missing component is a
    RenderError naming it, unless ``ignoreMissingComponents``."""
    overlay: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": [relative_path],
    }
    simple: list[tuple[str, Any]] = [
        ("namePrefix", settings.name_prefix), ("nameSuffix", settings.name_suffix),
        ("namespace", settings.namespace),
        ("commonLabels", dict(settings.common_labels) if settings.common_labels else None),
        ("commonAnnotations", dict(settings.common_annotations) if settings.common_annotations else None),
        ("images", [_image_entry(i) for i in settings.images] if settings.images else None),
        ("components", _components(relative_path, settings, app_dir)),
        ("patches", _patches(settings, app_dir)),
    ]
    overlay.update({key: value for key, value in simple if value})
    if settings.replicas:
        overlay["replicas"] = [{"name": r.name, "count": int(r.count)} for r in settings.replicas]
    return overlay


def tool(name: str) -> str | None:
    """The path of a manifest tool: ``$ROLLOUTS_<NAME>_PATH`` when set (a file, or a directory holding it),
    else ``<name>`` on PATH. ``rollouts controller`` and the testbed set these; an image puts them on PATH."""
    configured = os.environ.get(f"ROLLOUTS_{name.upper()}_PATH")
    if configured:
        path = Path(configured)
        path = path / name if path.is_dir() else path
        return str(path) if os.access(path, os.X_OK) else None
    return shutil.which(name)


class KustomizeRenderer:
    """``kustomize build`` (or ``kubectl kustomize`` when only kubectl is installed)."""

    name = "Kustomize"

    def selected_by(self, source: ApplicationSource) -> bool:
        return source.kustomize is not None

    def detects(self, app_dir: Path) -> bool:
        return any((app_dir / name).is_file() for name in _KUSTOMIZATION_FILES)

    def _command(self) -> list[str]:
        kustomize = tool("kustomize")
        if kustomize:
            return [kustomize, "build"]
        kubectl = tool("kubectl")
        if kubectl:
            return [kubectl, "kustomize"]
        raise RenderError("kustomize is not installed: neither the kustomize binary nor kubectl is on PATH "
                          "(or ROLLOUTS_KUSTOMIZE_PATH)")

    async def render(self, app_dir: Path, source: ApplicationSource, *, release: str, namespace: str,
                     cluster: ClusterCapabilities | None = None) -> list[Manifest]:
        command = self._command()
        settings = source.kustomize
        if settings is None or not settings.model_fields_set:
            return parse_manifests(await run_tool([*command, "."], cwd=app_dir, tool="kustomize build"),
                                   "kustomize build")
        # The overlay lives next to the app directory so relative references inside it keep working.
        with tempfile.TemporaryDirectory(prefix=".rollouts-kustomize-", dir=app_dir.parent) as tmp:
            overlay = kustomize_overlay(f"../{app_dir.name}", settings, app_dir)
            (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
            text = await run_tool([*command, "."], cwd=Path(tmp), tool="kustomize build")
        return parse_manifests(text, "kustomize build")


def _helm_flags(settings: HelmSource, app_dir: Path, cluster: ClusterCapabilities | None) -> list[str]:
    """skip-crds, the cluster's capabilities and the value files of ``helm template``."""
    args = ["--skip-crds"] if settings.skip_crds else []
    # The source's kubeVersion/apiVersions override what the destination cluster reports (as in Argo CD).
    kube_version = settings.kube_version or (cluster.kube_version if cluster else "")
    if kube_version:
        args += ["--kube-version", kube_version]
    for api_version in settings.api_versions or (cluster.api_versions if cluster else ()):
        args += ["--api-versions", api_version]
    for value_file in settings.value_files or ():
        if settings.ignore_missing_value_files and not (app_dir / value_file).is_file():
            continue
        args += ["--values", value_file]
    return args


class HelmRenderer:
    """``helm template`` with the source's value files, inline values and parameters."""

    name = "Helm"

    def selected_by(self, source: ApplicationSource) -> bool:
        return source.helm is not None

    def detects(self, app_dir: Path) -> bool:
        return (app_dir / "Chart.yaml").is_file()

    async def render(self, app_dir: Path, source: ApplicationSource, *, release: str, namespace: str,
                     cluster: ClusterCapabilities | None = None) -> list[Manifest]:
        helm = tool("helm")
        if helm is None:
            raise RenderError("helm is not installed: the helm binary was not found on PATH (or "
                              "ROLLOUTS_HELM_PATH), so this Helm chart cannot be rendered (install helm in the "
                              "controller image)")
        settings = source.helm or HelmSource()
        args = [helm, "template", settings.release_name or release, ".", "--namespace", namespace,
                *_helm_flags(settings, app_dir, cluster)]
        with tempfile.TemporaryDirectory(prefix="rollouts-helm-") as tmp:
            inline = settings.values_object if settings.values_object else (
                yaml.safe_load(settings.values) if settings.values else None)
            if inline:
                values_path = Path(tmp) / "values.yaml"
                values_path.write_text(yaml.safe_dump(inline))
                args += ["--values", str(values_path)]
            for param in settings.parameters or ():
                args += ["--set-string" if param.force_string else "--set", f"{param.name}={param.value}"]
            text = await run_tool(args, cwd=app_dir, tool="helm template")
        return parse_manifests(text, "helm template")
