#!/usr/bin/env bash
# Installs the system packages the tests need, when they are missing: a fresh machine has none of what a
# developer installed by hand. Debian packages only (the Go toolchain comes with the machine image).
#   prometheus  - real Prometheus server for the analysis integration tests and the demo
#   graphite-web - real Graphite render API (with python3-whisper) for the Graphite provider's test
#   git         - the gitops reconciler's source of truth
#   openssl     - certificates for the local control plane
#   zsh, fish   - the plugin's completion scripts are tested in the shells they are for
#   chromium, chromium-driver - the dashboard's browser tests drive a real headless Chromium through
#                 Debian's chromedriver (the driver of exactly that Chromium version)
# With the argument `image` (make image, make image-test), also the image tools:
#   buildah, mmdebstrap - build the controller image without a daemon (local base images from Debian packages)
#   podman      - run the image's controller against the testbed (tests/integration/manifests/test_image.py)
set -euo pipefail
need=()
if [ "${1:-}" = image ]; then
  command -v buildah >/dev/null || need+=(buildah)
  command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
  command -v podman >/dev/null || need+=(podman)
fi
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v git >/dev/null || need+=(git)
command -v graphite-manage >/dev/null || need+=(graphite-web)
command -v openssl >/dev/null || need+=(openssl)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
# The Debian package starts a system-wide Prometheus on 0.0.0.0:9090 where systemd runs; tests start their
# own on 127.0.0.1, so stop the packaged service if it is running.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi
# Without systemd the package's init script may have started it anyway: stop only that one (the packaged
# daemon listens on the default 0.0.0.0:9090), never the Prometheus servers tests and the demo run on 127.0.0.1.
for pid in $(pgrep -x prometheus 2>/dev/null); do
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- '--web.listen-address=127.0.0.1' || kill "$pid" 2>/dev/null || true
done
