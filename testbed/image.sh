#!/usr/bin/env bash
# `make image`: builds the controller image from the Dockerfile with buildah (no daemon), tagged
# <repository>:v<version> from pyproject.toml (the tag every bundle, the chart and the kustomize bases name).
#
#   testbed/image.sh [build|run-args]
#
# The Dockerfile starts FROM a Debian image and a Go image. Where a container registry is reachable they are
# pulled as named; where none is (this testbed's machines reach Debian's packages and the Go module proxy, no
# registry), IMAGE_BASES=local (the default when the pull fails) builds the equivalents here instead:
#   localhost/rollouts-base/debian:bookworm-slim  mmdebstrap --variant=minbase bookworm (Debian packages),
#                                                 with this machine's extra CA certificates
#   localhost/rollouts-base/golang:<GO_VERSION>   that rootfs plus this machine's Go toolchain (must be
#                                                 GO_VERSION, the Dockerfile's pin)
# Environment: IMAGE [from pyproject.toml], IMAGE_BASES [auto|registry|local], BUILDAH_ISOLATION [chroot], GO_CACHES [1: mount this machine's Go module and build caches
# into the Go stage, so helm and kustomize build in seconds when the testbed already built them].
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO/testbed/versions.env"
# chroot isolation: RUN steps need no OCI runtime or cgroup setup (crun refuses this machine's hybrid cgroups).
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
IMAGE=${IMAGE:-$(python3 "$REPO/manifests/generate.py" --print-image)}
GO_VERSION=$(sed -n 's/^ARG GO_VERSION=//p' "$REPO/Dockerfile")
DEBIAN_REF=$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$REPO/Dockerfile")
GO_REF=docker.io/library/golang:${GO_VERSION}-bookworm
LOCAL_DEBIAN=localhost/rollouts-base/debian:bookworm-slim
LOCAL_GO=localhost/rollouts-base/golang:$GO_VERSION
say() { echo "[image $(date +%T)] $*" >&2; }
command -v buildah >/dev/null || { say "buildah is required (apt-get install buildah)"; exit 1; }

have() { buildah inspect --type image "$1" >/dev/null 2>&1; }

local_bases() {
  if ! have "$LOCAL_DEBIAN"; then
    command -v mmdebstrap >/dev/null || { say "mmdebstrap is required for local bases (apt-get install mmdebstrap)"; exit 1; }
    say "building $LOCAL_DEBIAN with mmdebstrap (Debian bookworm, minbase)"
    tmp=$(mktemp -d)
    # The machine's own extra trust anchors (/usr/local/share/ca-certificates, e.g. an egress proxy's CA) go
    # into the local base, so RUN steps reach the Go module proxy, PyPI and Debian as this machine does.
    hooks=()
    extra=(/usr/local/share/ca-certificates/*.crt)
    if [ -e "${extra[0]}" ]; then
      hooks+=(--customize-hook="copy-in ${extra[*]} /usr/local/share/ca-certificates/"
              --customize-hook='chroot "$1" update-ca-certificates --fresh >/dev/null')
    fi
    nice -n 10 mmdebstrap --quiet --variant=minbase --include=ca-certificates \
      --aptopt='Acquire::Retries "3"' "${hooks[@]}" bookworm "$tmp/rootfs.tar"
    ctr=$(buildah from scratch)
    buildah add --quiet "$ctr" "$tmp/rootfs.tar" / >/dev/null
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$ctr"
    buildah commit --quiet --rm "$ctr" "$LOCAL_DEBIAN" >/dev/null
    rm -rf "$tmp"
  fi
  if ! have "$LOCAL_GO"; then
    goroot=$(go env GOROOT 2>/dev/null || true)
    found=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)
    [ "$found" = "go$GO_VERSION" ] || { say "the local Go is '$found', the Dockerfile pins go$GO_VERSION"; exit 1; }
    say "building $LOCAL_GO ($LOCAL_DEBIAN + $goroot)"
    ctr=$(buildah from "$LOCAL_DEBIAN")
    buildah copy --quiet "$ctr" "$goroot" /usr/local/go >/dev/null
    buildah config --env GOPATH=/go \
      --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
    buildah commit --quiet --rm "$ctr" "$LOCAL_GO" >/dev/null
  fi
}

bases=${IMAGE_BASES:-auto}
if [ "$bases" = auto ]; then
  if buildah pull --quiet "$DEBIAN_REF" >/dev/null 2>&1 && buildah pull --quiet "$GO_REF" >/dev/null 2>&1; then
    bases=registry
  else
    say "no registry answers for $DEBIAN_REF / $GO_REF: building local bases from Debian packages"
    bases=local
  fi
fi
build_args=()
if [ "$bases" = local ]; then
  local_bases
  build_args+=(--build-arg "DEBIAN_IMAGE=$LOCAL_DEBIAN" --build-arg "GO_IMAGE=$LOCAL_GO")
fi
volumes=()
if [ "${GO_CACHES:-1}" = 1 ] && command -v go >/dev/null; then
  volumes+=(-v "$(go env GOMODCACHE):/go/pkg/mod" -v "$(go env GOCACHE):/root/.cache/go-build")
fi
say "building $IMAGE (bases: $bases)"
cd "$REPO"
nice -n 10 buildah bud --quiet --layers --network host --pull=never "${build_args[@]}" "${volumes[@]}" \
  --build-arg "HELM_VERSION=$HELM_VERSION" --build-arg "KUSTOMIZE_VERSION=$KUSTOMIZE_VERSION" \
  -t "$IMAGE" -f Dockerfile . >/dev/null
say "built $IMAGE"
echo "$IMAGE"
