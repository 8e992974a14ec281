"""What an AppProject permits, decided as Argo CD decides it. Pure.

Why this module exists: a project is a fence around a team's Applications, and a fence that differs from
Argo CD's in a corner (a negated glob, the different defaults of the two resource whitelists, a ``*`` that
stops at ``/``) lets an application write where its owners thought it could not. The rules follow Argo CD
v3's ``AppProject`` methods (``pkg/apis/application/v1alpha1``: ``IsSourcePermitted``,
``isDestinationMatched``, ``IsGroupKindNamePermitted``) and its messages (``util/argo.ValidatePermissions``,
``controller/sync.go``):

- ``sourceRepos`` and ``destinations`` are gobwas-style globs (``*``, ``?``, ``[a-z]``, ``{a,b}``; in
  repository URLs ``*`` does not cross ``/``), a leading ``!`` negates; a repository is permitted when some
  entry matches and no negated entry excludes it.
- resource lists use Go's ``filepath.Match``; a missing ``namespaceResourceWhitelist`` permits every
  namespaced kind, a missing ``clusterResourceWhitelist`` permits no cluster-scoped kind; a blacklist wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rollouts.api.application import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, Application, ApplicationDestination
from rollouts.api.appproject import AppProjectSpec, ClusterResourceRestrictionItem, GroupKind, default_project_body
from rollouts.gitops.clusters import Cluster

_SSH_URL = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+$")


# -- glob matching --------------------------------------------------------------------------------------------


def _class(pattern: str, start: int, negation: str) -> tuple[str, int] | None:
    """A ``[...]`` character class as a regex, and the index after it; None when it is not closed."""
    end = pattern.find("]", start + 2 if pattern[start + 1:start + 2] in (negation, "]") else start + 1)
    if end < 0:
        return None
    body = pattern[start + 1:end]
    negated = body.startswith(negation)
    if negated:
        body = body[1:]
    body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
    return f"[{'^' if negated else ''}{body}]", end + 1


def _translate(pattern: str, separators: str, *, braces: bool, negation: str) -> str | None:
    """A glob as a regex: ``*`` stops at a separator (``**`` does not, gobwas only), ``?`` one character."""
    no_sep = f"[^{re.escape(separators)}]" if separators else "."
    out, i, depth = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            if braces and pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append(f"{no_sep}*")
        elif char == "?":
            out.append(no_sep)
        elif char == "[":
            found = _class(pattern, i, negation)
            if found is None:
                return None
            out.append(found[0])
            i = found[1]
            continue
        elif braces and char == "{":
            depth += 1
            out.append("(?:")
        elif braces and char == "}" and depth:
            depth -= 1
            out.append(")")
        elif braces and char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    return None if depth else "".join(out)


@lru_cache(maxsize=4096)
def _compiled(pattern: str, separators: str, braces: bool, negation: str) -> re.Pattern[str] | None:
    regex = _translate(pattern, separators, braces=braces, negation=negation)
    return re.compile(regex, re.DOTALL) if regex is not None else None


def glob_match(pattern: str, value: str, separators: str = "") -> bool:
    """gobwas/glob's ``Match`` (Argo CD's ``util/glob``); an invalid pattern matches nothing.

    "https://github.com/org/*" with separator "/" matches ".../org/app" but not ".../org/a/b";
    "{prod,staging}-*" matches "prod-web".
    """
    compiled = _compiled(pattern, separators, True, "!")
    return compiled is not None and compiled.fullmatch(value) is not None


def is_valid_glob(pattern: str) -> bool:
    """gobwas/glob compiles ``pattern`` (an unclosed ``[`` or ``{``, a trailing ``\\`` do not)."""
    return _compiled(pattern, "", True, "!") is not None


def filepath_match(pattern: str, name: str) -> bool:
    """Go's ``path/filepath.Match`` (``*`` stops at ``/``, classes negate with ``^``); invalid: no match."""
    compiled = _compiled(pattern, "/", False, "^")
    return compiled is not None and compiled.fullmatch(name) is not None


def _is_deny(pattern: str) -> bool:
    return pattern.startswith("!")


def _project_glob(pattern: str, value: str, *, negation: bool, separators: str = "") -> bool:
    """Argo CD's ``globMatch``: ``!p`` matches what ``p`` does not; ``*`` matches everything."""
    if negation and _is_deny(pattern):
        return not glob_match(pattern[1:], value, separators)
    if pattern == "*":
        return True
    return glob_match(pattern, value, separators)


# -- sources --------------------------------------------------------------------------------------------------


def normalize_git_url(url: str) -> str:
    """Argo CD's ``NormalizeGitURL``: lower case, ``git@host:org/repo`` as ``git@host/org/repo``, no ``.git``."""
    repo = url.strip().lower()
    if _SSH_URL.match(repo) and not repo.startswith("ssh://"):
        repo = repo.replace(":", "/", 1)
    return repo.removesuffix(".git").removeprefix("ssh://")


def is_source_permitted(spec: AppProjectSpec, repo_url: str) -> bool:
    """``sourceRepos: ["https://github.com/org/*", "!https://github.com/org/secret"]`` permits org/app only."""
    wanted = normalize_git_url(repo_url)
    matched = False
    for entry in spec.source_repos or ():
        pattern = ("!" + normalize_git_url(entry[1:])) if _is_deny(entry) else normalize_git_url(entry)
        if _project_glob(pattern, wanted, negation=True, separators="/"):
            matched = True
        elif _is_deny(pattern):
            return False
    return matched


# -- destinations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResolvedDestination:
    """An application's destination as its project's rules see it: the cluster resolved from the cluster
    Secrets (server and name), and the clusters scoped to the project (for permitOnlyProjectScopedClusters)."""

    cluster: Cluster
    scoped: tuple[Cluster, ...] = ()


def _destination_verdict(item: ApplicationDestination, cluster: Cluster, namespace: str) -> bool | None:
    """True: this entry permits the destination; False: a negated entry excludes it; None: no say."""
    name_ok = bool(cluster.name) and _project_glob(item.name or "", cluster.name, negation=True)
    server_ok = bool(cluster.server) and _project_glob(item.server or "", cluster.server, negation=True)
    namespace_ok = _project_glob(item.namespace or "", namespace, negation=True)
    if (server_ok or name_ok) and namespace_ok:
        return True
    # Go's precedence: A || (B && C)
    if (not name_ok and _is_deny(item.name or "")) or (not server_ok and _is_deny(item.server or "")
                                                        and namespace_ok):
        return False
    if not namespace_ok and _is_deny(item.namespace or "") and server_ok:
        return False
    return None


def is_destination_permitted(spec: AppProjectSpec, cluster: Cluster, namespace: str,
                             scoped: Sequence[Cluster] = ()) -> bool:
    """Some entry matches (server or name, and namespace) and no negated entry excludes it first; with
    ``permitOnlyProjectScopedClusters``, the cluster must also be one of the project's own (``scoped``: the
    cluster Secrets whose ``project`` names it), matched by name or server as Argo CD matches them."""
    matched = False
    for item in spec.destinations or ():
        verdict = _destination_verdict(item, cluster, namespace)
        if verdict is False:
            return False
        matched = matched or bool(verdict)
    if matched and spec.permit_only_project_scoped_clusters:
        return any(c.name == cluster.name or c.server == cluster.server for c in scoped)
    return matched


# -- resources ------------------------------------------------------------------------------------------------


def _in_list(group: str, kind: str, items: Sequence[GroupKind]) -> bool:
    return any(filepath_match(i.kind, kind) and filepath_match(i.group, group) for i in items)


def _in_named_list(group: str, kind: str, name: str, items: Sequence[ClusterResourceRestrictionItem]) -> bool:
    for item in items:
        if not (filepath_match(item.kind, kind) and filepath_match(item.group, group)):
            continue
        if not item.name or filepath_match(item.name, name):
            return True
    return False


def is_kind_permitted(spec: AppProjectSpec, *, group: str, kind: str, name: str, namespaced: bool) -> bool:
    """Namespaced kinds: all unless a whitelist is given, minus the blacklist; cluster-scoped kinds: only those
    whitelisted (by group, kind and optionally name), minus the blacklist."""
    if namespaced:
        white = spec.namespace_resource_whitelist
        allowed = white is None or (len(white) > 0 and _in_list(group, kind, white))
        return allowed and not _in_list(group, kind, spec.namespace_resource_blacklist or ())
    allowed = _in_named_list(group, kind, name, spec.cluster_resource_whitelist or ())
    return allowed and not _in_named_list(group, kind, name, spec.cluster_resource_blacklist or ())


# -- messages -------------------------------------------------------------------------------------------------


def missing_project_message(project: str) -> str:
    return f"Application referencing project {project} which does not exist"


def source_violation(spec: AppProjectSpec, project: str, repo_url: str) -> str | None:
    if is_source_permitted(spec, repo_url):
        return None
    return f"application repo {repo_url} is not permitted in project '{project}'"


def destination_violation(spec: AppProjectSpec, project: str, destination: ApplicationDestination,
                          cluster: Cluster, scoped: Sequence[Cluster] = ()) -> str | None:
    namespace = destination.namespace or ""
    if is_destination_permitted(spec, cluster, namespace, scoped):
        return None
    server = cluster.name if destination.name else cluster.server
    return (f"application destination server '{server}' and namespace '{namespace}' do not match any of the "
            f"allowed destinations in project '{project}'")


def resource_violation(spec: AppProjectSpec, project: str, cluster: Cluster, *, group: str, kind: str, name: str,
                       namespace: str, namespaced: bool, scoped: Sequence[Cluster] = ()) -> str | None:
    """Why the sync may not write this object (Argo CD's permission validator), or None."""
    if not is_kind_permitted(spec, group=group, kind=kind, name=name, namespaced=namespaced):
        return f"resource {group}:{kind} is not permitted in project {project}"
    if namespaced and not is_destination_permitted(spec, cluster, namespace, scoped):
        return f"namespace {namespace} is not permitted in project '{project}'"
    return None


# -- an application against its project ----------------------------------------------------------------------

PERMISSIVE = AppProjectSpec.model_validate(default_project_body("")["spec"])
"""The ``default`` project as Argo CD creates it, used while no ``default`` AppProject object exists."""


def destination_cluster(destination: ApplicationDestination) -> Cluster:
    """The local cluster under the name or server the application gives (when no resolved cluster is known)."""
    return Cluster(server=destination.server or IN_CLUSTER_SERVER,
                   name=destination.name or IN_CLUSTER_NAME)


def with_scoped_clusters(spec: AppProjectSpec, scoped: Sequence[ApplicationDestination]) -> AppProjectSpec:
    """The project as Argo CD's controller reads it (``GetAppProjectByName``): its project-scoped clusters'
    destinations (server and ``*``, or their namespaces) added to ``destinations``."""
    if not scoped:
        return spec
    return spec.model_copy(update={"destinations": [*(spec.destinations or ()), *scoped]})


def application_violations(app: Application, project: AppProjectSpec | None, cluster: Cluster | None = None,
                           scoped: Sequence[Cluster] = ()) -> tuple[str, ...]:
    """Argo CD's InvalidSpecError messages for ``app`` in its project (``None``: the project does not exist),
    with ``cluster`` the destination as resolved from the cluster Secrets (its server and name)."""
    name = app.spec.project
    if project is None:
        return (missing_project_message(name),)
    cluster = cluster or destination_cluster(app.spec.destination)
    found = [*(source_violation(project, name, s.repo_url) for s in app.spec.source_list()),
             destination_violation(project, name, app.spec.destination, cluster, scoped)]
    return tuple(v for v in found if v is not None)
