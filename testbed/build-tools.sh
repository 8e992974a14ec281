#!/usr/bin/env bash
# Builds the manifest tools the Application reconciler runs (helm, kustomize) from the Go module proxy and
# caches them per version under ${ROLLOUTS_TESTBED_CACHE:-~/.cache/rollouts-testbed}/gitops-tools-<helm>-<kustomize>/bin,
# like build.sh does for the control plane. Prints that directory. A warm cache returns at once.
# Why not the Debian packages: Debian has no kustomize and an old helm; the tests pin the versions Argo CD
# users run (testbed/versions.env), and a fresh CI machine builds them from nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
cache_root=${ROLLOUTS_TESTBED_CACHE:-$HOME/.cache/rollouts-testbed}
bin="$cache_root/gitops-tools-helm-${HELM_VERSION}-kustomize-${KUSTOMIZE_VERSION}/bin"

if [ -x "$bin/helm" ] && [ -x "$bin/kustomize" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "testbed: the Go toolchain is required (go not on PATH)" >&2; exit 1; }
mkdir -p "$bin"
log() { printf '[testbed-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
( while sleep 30; do log "still building..."; done ) &
heartbeat=$!
tmp=$(mktemp -d)
trap 'kill $heartbeat 2>/dev/null || true; rm -rf "$tmp"' EXIT

# `go install module/cmd@version` builds with the module's own go.mod and go.sum (no local module needed).
export GOFLAGS=-trimpath
if [ ! -x "$bin/helm" ]; then
  log "building helm ${HELM_VERSION} (helm.sh/helm/v3)"
  # helm prints (and templates .Capabilities.HelmVersion from) its version: set it as its release build does.
  GOTOOLCHAIN=${HELM_GOTOOLCHAIN} GOBIN="$tmp" nice -n 10 go install \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  mv "$tmp/helm" "$bin/helm"
fi
if [ ! -x "$bin/kustomize" ]; then
  log "building kustomize ${KUSTOMIZE_VERSION} (sigs.k8s.io/kustomize/kustomize/v5)"
  GOTOOLCHAIN=${KUSTOMIZE_GOTOOLCHAIN} GOBIN="$tmp" nice -n 10 go install \
    -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${KUSTOMIZE_VERSION}" \
    "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
  mv "$tmp/kustomize" "$bin/kustomize"
fi
log "done: $bin"
echo "$bin"
