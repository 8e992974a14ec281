# The controller image: the controller and CLI (`rollouts`, `kubectl-rollouts`, `kubectl-argo-rollouts`) with
# the tools the Application reconciler runs (git, helm, kustomize), non-root (65532), made to run with a
# read-only root filesystem (writes go to /tmp, an emptyDir in manifests/base/deployment.yaml).
#
#   make image                       # buildah, no daemon; tag from pyproject.toml (make manifests --print-image)
#   docker build -t ghcr.io/<org>/rollouts:v<version> .
#
# Versions are pinned here and checked against the testbed's (tests/unit/manifests/test_image.py):
# HELM_VERSION/KUSTOMIZE_VERSION equal testbed/versions.env, GO_VERSION the Go the testbed builds them with,
# the Debian packages are bookworm's. DEBIAN_IMAGE and GO_IMAGE are build arguments so a machine without a
# container registry can give local equivalents (testbed/image.sh builds them from Debian packages).
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
ARG GO_VERSION=1.26.8
ARG GO_IMAGE=docker.io/library/golang:${GO_VERSION}-bookworm

# helm and kustomize from the Go module proxy, with the same flags as testbed/build-tools.sh (their version
# strings as their release builds set them: helm templates .Capabilities.HelmVersion from it).
FROM ${GO_IMAGE} AS tools
ARG HELM_VERSION=v3.22.0
ARG KUSTOMIZE_VERSION=v5.8.2
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=local
RUN GOBIN=/out go install \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" \
 && GOBIN=/out go install \
      -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${KUSTOMIZE_VERSION}" \
      "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
 && /out/helm version --short && /out/kustomize version

# Python and git from Debian bookworm, pinned (python3-venv is built from the same source as python3). The
# trust store and the ssh client (git over ssh) follow bookworm's security updates instead.
FROM ${DEBIAN_IMAGE} AS runtime
ARG PYTHON_DEB_VERSION=3.11.2-1+b1
ARG GIT_DEB_VERSION=1:2.39.5-0+deb12u3
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3="${PYTHON_DEB_VERSION}" python3-venv="${PYTHON_DEB_VERSION}" git="${GIT_DEB_VERSION}" ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 rollouts && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /tmp rollouts

# The package and its dependencies in a virtual environment (the same interpreter as the final stage).
FROM runtime AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rollouts ./rollouts
COPY analysis ./analysis
RUN python3 -m venv /opt/rollouts && /opt/rollouts/bin/pip install --no-cache-dir --no-compile /src \
 && /opt/rollouts/bin/python -m compileall -q /opt/rollouts/lib

FROM runtime
COPY --from=tools /out/helm /out/kustomize /usr/local/bin/
COPY --from=build /opt/rollouts /opt/rollouts
# HOME and the caches under /tmp: the only writable path with a read-only root filesystem. No .pyc is
# written at run time (they were compiled at build time).
ENV PATH=/opt/rollouts/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp XDG_CACHE_HOME=/tmp/.cache PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8090
ENTRYPOINT ["rollouts"]
CMD ["controller", "--leader-elect"]
