# The controller image: small, non-root, pinned base. Build and push (needs a Docker engine):
#   docker build -t ghcr.io/<you>/rollouts-controller:0.1.0 .
#   docker push ghcr.io/<you>/rollouts-controller:0.1.0
# then set the image in manifests/install.yaml (or `kubectl set image`).
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rollouts ./rollouts
COPY analysis ./analysis
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11.11-slim-bookworm
# git: the Application reconciler's source of truth; kubectl is not needed (kustomize via the binary if added).
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 rollouts && useradd --uid 65532 --gid 65532 --no-create-home rollouts
COPY --from=build /install /usr/local
USER 65532:65532
ENV HOME=/tmp PYTHONUNBUFFERED=1
EXPOSE 8080 8090
ENTRYPOINT ["rollouts"]
CMD ["controller", "--leader-elect"]
