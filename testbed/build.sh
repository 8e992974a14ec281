#!/usr/bin/env bash
# Builds the local control plane from the published Go modules and caches the binaries
# per version under ${ROLLOUTS_TESTBED_CACHE:-~/.cache/rollouts-testbed}/<k8s>-<kwok>/bin.
# A warm cache returns at once. Progress is printed while building (a cold build takes
# many minutes on 2 cores); nothing is downloaded except through the Go module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
cache_root=${ROLLOUTS_TESTBED_CACHE:-$HOME/.cache/rollouts-testbed}
bin="$cache_root/${KUBERNETES_VERSION}-kwok-${KWOK_VERSION}/bin"
want=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

missing=()
for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "testbed: the Go toolchain is required (go not on PATH)" >&2; exit 1; }
mkdir -p "$bin"
log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# A heartbeat so a long compile never looks hung.
( while sleep 30; do log "still building..."; done ) &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null || true' EXIT

minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=${KUBERNETES_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

tmp=$(mktemp -d)
cd "$here"
log "downloading modules for Kubernetes ${KUBERNETES_VERSION}"
go mod download
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  if [ ! -x "$bin/$b" ]; then
    log "building $b"
    go build -trimpath -ldflags "$ldflags" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b"
    mv "$tmp/$b" "$bin/$b"
  fi
done
if [ ! -x "$bin/etcd" ]; then
  log "building etcd (go.etcd.io/etcd/server/v3, the version Kubernetes requires)"
  go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  mv "$tmp/etcd" "$bin/etcd"
fi
if [ ! -x "$bin/kwok" ]; then
  log "building kwok ${KWOK_VERSION}"
  GOBIN="$tmp" GOFLAGS= go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
  mv "$tmp/kwok" "$bin/kwok"
fi
rm -rf "$tmp"
log "done: $bin"
echo "$bin"
