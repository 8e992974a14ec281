"""`create -f FILE` and `create analysisrun --from TEMPLATE`, with Argo's messages.

`create -f` creates what the file holds: Rollouts, Experiments, (Cluster)AnalysisTemplates and AnalysisRuns as
Argo's plugin does ("rollout.argoproj.io/web created"), and beyond it any other kind the API server serves
(found through discovery, printed as kubectl prints it: "service/web created"), every document of a
multi-document file. The server validates strictly (`fieldValidation=Strict`), so a misspelt field is an
error, not silently dropped, as Argo's strict decoding makes it.

`create analysisrun` turns an AnalysisTemplate or ClusterAnalysisTemplate (from the cluster or a file) into
an AnalysisRun: the template's arguments take the values given with `-a NAME=VALUE`, and an argument left
without a value is an error ("args.x was not resolved"), as when the controller starts a run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError, Target, explain

if TYPE_CHECKING:
    from rollouts.cli.invocation import Invocation
    from rollouts.kube.client import KubeClient

Obj = dict[str, Any]

ARGO_GROUP = "argoproj.io"
INSTANCE_ID_LABEL = "argo-rollouts.argoproj.io/controller-instance-id"
# What `create -w` can follow, by kind: the handler that watches it (one line per kind).
WATCHERS: dict[str, str] = {"Rollout": "rollouts.cli.views:get_rollout"}
_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink",
                  "deletionTimestamp", "deletionGracePeriodSeconds")


def read_documents(path: str) -> list[Obj]:
    """The objects in a YAML or JSON file ('-' for stdin), empty documents skipped."""
    import yaml

    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise CliError(f"error converting YAML to JSON: {path}: {exc}") from exc
    for doc in docs:
        if not isinstance(doc, dict):
            raise CliError(f"{path}: expected a Kubernetes object, got a {type(doc).__name__}")
        for key in ("apiVersion", "kind"):
            if not doc.get(key):
                raise CliError(f"{path}: Object 'Kind' is missing in '{_short(doc)}'" if key == "kind"
                               else f"{path}: Object 'apiVersion' is missing in '{_short(doc)}'")
    if not docs:
        raise CliError(f"{path}: no objects passed to create")
    return docs


def _short(doc: Mapping[str, Any]) -> str:
    import json

    text = json.dumps(doc, separators=(",", ":"))
    return text if len(text) < 120 else text[:117] + "..."


def created_line(kind: str, group: str, name: str) -> str:
    """`rollout.argoproj.io/web created`; `service/web created` for the core group."""
    return f"{kind.lower()}.{group}/{name} created" if group else f"{kind.lower()}/{name} created"


async def create_object(client: KubeClient, doc: Obj, namespace: str) -> tuple[str, Obj]:
    """Create one object (in its own namespace, else `namespace`); returns the line to print and the object."""
    kind_name = str(doc.get("kind"))
    try:
        kind = await client.resolve(str(doc.get("apiVersion")), kind_name)
    except Exception as exc:
        raise explain(exc, Target("create", kind_name, (doc.get("metadata") or {}).get("name"), None)) from exc
    meta: dict[str, Any] = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
    ns = str(meta.get("namespace") or namespace) if kind.namespaced else None
    name = meta.get("name") or meta.get("generateName") or ""
    try:
        created = await client.create(kind, doc, ns, field_validation="Strict")
    except Exception as exc:
        raise explain(exc, Target("create", kind.kind.lower(), str(name) or None, ns)) from exc
    return created_line(kind.kind, kind.group, str((created.get("metadata") or {}).get("name") or "")), created


async def create_files(inv: Invocation) -> int:
    args = inv.args
    if not args.filenames:
        raise CliError(f"one or more files are required: {inv.prog} create -f FILE\n"
                       f"See '{inv.prog} create --help' for usage.")
    if len(args.filenames) > 1 and args.watch:
        raise CliError("Cannot watch multiple resources")
    documents = [(path, doc) for path in args.filenames for doc in read_documents(path)]
    if args.watch and len(documents) > 1:
        raise CliError("Cannot watch multiple resources")
    created: list[Obj] = []
    async with inv.client() as client:
        for _, doc in documents:
            line, obj = await create_object(client, doc, inv.namespace)
            inv.print(line)
            created.append(obj)
    if args.watch:
        return await _watch(inv, created[0])
    return 0


async def _watch(inv: Invocation, obj: Obj) -> int:
    from importlib import import_module

    handler = WATCHERS.get(str(obj.get("kind"))) if str(obj.get("apiVersion", "")).startswith(ARGO_GROUP) else None
    if handler is None:
        raise CliError("Can only watch resources of type Rollout or Experiment")
    module, _, function = handler.partition(":")
    inv.args.name = (obj.get("metadata") or {}).get("name")
    inv.args.output = None
    inv.args.timeout_seconds = 0
    inv.args.watch = True
    result: int = await getattr(import_module(module), function)(inv)
    return result


# ---------------------------------------------------------------------------------------------------
# create analysisrun


def parse_arguments(flags: Sequence[str]) -> list[dict[str, str]]:
    """`-a name=value` flags as AnalysisRun arguments (the value may itself contain '=')."""
    parsed = []
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep:
            raise CliError("arguments must be in the form NAME=VALUE")
        parsed.append({"name": name, "value": value})
    return parsed


def merge_arguments(given: Sequence[Mapping[str, Any]], template_args: Sequence[Any] | None) -> list[dict[str, Any]]:
    """Argo's rule: with template args, each takes the value given for its name (others given are ignored) and
    each must end up with a value or valueFrom; without template args, the given ones are the run's."""
    if template_args is None:
        return [dict(a) for a in given]
    merged = [dict(a) for a in template_args if isinstance(a, Mapping)]
    for arg in given:
        for existing in merged:
            if existing.get("name") == arg.get("name"):
                existing["value"] = arg["value"]
                break
    for arg in merged:
        if arg.get("value") is None and arg.get("valueFrom") is None:
            raise CliError(f"args.{arg.get('name')} was not resolved")
    return merged


def analysisrun_from_template(template: Mapping[str, Any], given: Sequence[Mapping[str, Any]], *, name: str,
                              generate_name: str, namespace: str, instance_id: str = "") -> Obj:
    """The AnalysisRun object for a template (pure: tested by tables)."""
    import copy

    run: Obj = copy.deepcopy(dict(template))
    spec = run.setdefault("spec", {})
    args = merge_arguments(given, spec.get("args") if isinstance(spec, dict) and "args" in spec else None)
    run["kind"] = "AnalysisRun"
    run["apiVersion"] = run.get("apiVersion") or f"{ARGO_GROUP}/v1alpha1"
    meta = run.setdefault("metadata", {})
    for key in _SERVER_FIELDS:
        meta.pop(key, None)
    meta.pop("namespace", None)
    meta["name"], meta["generateName"], meta["namespace"] = name, generate_name, namespace
    if not name:
        meta.pop("name")
    if not generate_name:
        meta.pop("generateName")
    if instance_id:
        meta["labels"] = {**(meta.get("labels") or {}), INSTANCE_ID_LABEL: instance_id}
    run.pop("status", None)
    if args:
        spec["args"] = args
    return run


async def _template(inv: Invocation, client: KubeClient, *, source: str, from_file: str, cluster: bool) -> Obj:
    from rollouts.kube.resources import ANALYSISTEMPLATE, CLUSTERANALYSISTEMPLATE

    if from_file:
        docs = read_documents(from_file)
        return docs[0]
    kind = CLUSTERANALYSISTEMPLATE if cluster else ANALYSISTEMPLATE
    try:
        template: Obj = await client.get(kind, source, None if cluster else inv.namespace)
    except Exception as exc:
        from rollouts.kube.errors import NotFound

        if isinstance(exc, NotFound):
            where = "" if cluster else f" in namespace '{inv.namespace}'"
            raise CliError(f'{kind.plural}.{kind.group} "{source}" not found{where}') from exc
        raise explain(exc, Target("get", kind.kind, source, None if cluster else inv.namespace)) from exc
    return template


async def create_analysisrun(inv: Invocation) -> int:
    args = inv.args
    source, cluster = args.from_template, bool(args.use_global)
    if args.from_cluster_template:
        if source:
            raise CliError("one of --from or --from-file must be specified")
        source, cluster = args.from_cluster_template, True
    if bool(source) + bool(args.from_file) != 1:
        raise CliError("one of --from or --from-file must be specified")
    given = parse_arguments(args.arguments)
    async with inv.client() as client:
        template = await _template(inv, client, source=source, from_file=args.from_file, cluster=cluster)
        template_name = str((template.get("metadata") or {}).get("name") or "")
        name, generate_name = args.name, ""
        if not name:
            generate_name = args.generate_name or f"{template_name}-"
        if not name and generate_name == "-":
            raise CliError("name is invalid")
        run = analysisrun_from_template(template, given, name=name, generate_name=generate_name,
                                        namespace=inv.namespace, instance_id=args.instance_id)
        from rollouts.kube.resources import ANALYSISRUN

        try:
            created = await client.create(ANALYSISRUN, run, inv.namespace)
        except Exception as exc:
            raise explain(exc, Target("create", "analysisrun", name or None, inv.namespace)) from exc
    inv.print(f"analysisrun.argoproj.io/{(created.get('metadata') or {}).get('name', '')} created")
    return 0
