#!/usr/bin/env bash
# Runs a command in the built image (`make image`) as the bundles run it: user 65532:65532, read-only root
# filesystem, a tmpfs /tmp (the Deployment's emptyDir), the host's network, the image's environment.
#
#   testbed/image-run.sh [-f FILE]... [--] [COMMAND ARGS...]    (no COMMAND: the image's entrypoint + cmd)
#
# -f FILE copies FILE to /tmp/<basename> inside (e.g. a kubeconfig). Why not `podman run`: on this testbed's
# machines crun fails with "setrlimit RLIMIT_NOFILE: Operation not permitted" (and refuses the hybrid cgroup
# setup), so the image's root filesystem is mounted with buildah and entered with chroot in a private mount
# namespace (unshare), which needs no OCI runtime. Root is needed for the mounts (the command itself is not).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-$(python3 "$REPO/manifests/generate.py" --print-image)}
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -f) files+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
ctr=$(buildah from --pull=never --name "rollouts-run-$$" "$IMAGE")
new=$(mktemp -d)
cleanup() { buildah umount "$ctr" >/dev/null 2>&1 || true; buildah rm "$ctr" >/dev/null 2>&1 || true; rmdir "$new" 2>/dev/null || true; }
trap cleanup EXIT
root=$(buildah mount "$ctr")
# The image's configuration: user, environment, entrypoint and cmd, as the runtime would apply them.
user=$(buildah inspect --format '{{.OCIv1.Config.User}}' "$ctr")
mapfile -t envs < <(buildah inspect --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "$ctr" | sed '/^$/d')
if [ $# -eq 0 ]; then
  mapfile -t cmd < <(buildah inspect --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$ctr" | sed '/^$/d')
  set -- "${cmd[@]}"
fi
workdir=$(buildah inspect --format '{{.OCIv1.Config.WorkingDir}}' "$ctr")
copies=""
for f in "${files[@]}"; do copies+="install -m 0644 $(printf %q "$f") \"\$new/tmp/\" && "; done
# shellcheck disable=SC2016
unshare --mount --fork env new="$new" root="$root" sh -ec "
  mount --bind \"\$root\" \"\$new\"
  mount -o remount,bind,ro \"\$new\"
  mount -t proc proc \"\$new/proc\"
  mount --rbind /dev \"\$new/dev\"
  mount -t tmpfs -o size=256m,mode=1777 tmpfs \"\$new/tmp\"
  mount --bind /etc/resolv.conf \"\$new/etc/resolv.conf\"
  ${copies}
  exec chroot --userspec=${user:-65532:65532} \"\$new\" /usr/bin/env -i $(printf '%q ' "${envs[@]}") \
    sh -c 'cd \"\$0\" && exec \"\$@\"' ${workdir:-/} $(printf '%q ' "$@")
"
