#!/usr/bin/env bash
# `make conformance`: Argo Rollouts' own e2e suites against Argo's controller (the bar) and then ours, on a
# control plane of their own, and the comparison table. Too slow for `make test` (about an hour on 2 cores);
# it is the benchmark of compatibility. The suites, Argo's controller and the runner come from the shared kit
# (CONFORMANCE_KIT, built from the Go module proxy by its prepare.sh); nothing of Argo's is built here.
#
#   testbed/conformance.sh [argo|project|parity|compare ...]     (default: argo project parity compare)
#
# parity: tests/integration/conformance (Argo's plugin driving Argo's controller and ours through the same
# actions, objects compared after each; ROLLOUTS_ARGO_PARITY=1), on this cluster with the project's CRDs.
#
# Environment: CONFORMANCE_KIT [../shared/conformance/argo-e2e], CONFORMANCE_OUT [.conformance],
# CONFORMANCE_SHARDS [TestFunctionalSuite=4 TestCanarySuite=2], SUITES/TEST_RUN/E2E_POD_DELAY/... as the
# kit's run.sh. The cluster uses the testbed's ports + 1 (ROLLOUTS_*_PORT), so it never touches the cluster
# `make test` uses, and is stopped at the end unless CONFORMANCE_KEEP_CLUSTER=1.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
KIT=$(cd "$REPO" && cd "${CONFORMANCE_KIT:-../shared/conformance/argo-e2e}" && pwd)
OUT=$(mkdir -p "${CONFORMANCE_OUT:-$REPO/.conformance}" && cd "${CONFORMANCE_OUT:-$REPO/.conformance}" && pwd)
SIDES=("$@"); [ ${#SIDES[@]} -gt 0 ] || SIDES=(argo project parity compare)
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
say() { echo "[conformance $(date +%T)] $*" >&2; }

shift_port() { local name=$1 default=$2; export "$name=$(( ${!name:-$default} + 1 ))"; }
shift_port ROLLOUTS_ETCD_PORT 23790; shift_port ROLLOUTS_ETCD_PEER_PORT 23800
shift_port ROLLOUTS_APISERVER_PORT 16443; shift_port ROLLOUTS_KCM_PORT 16257
shift_port ROLLOUTS_SCHEDULER_PORT 16259; shift_port ROLLOUTS_KWOK_PORT 16280
export ROLLOUTS_CLUSTER_DIR="$OUT/cluster"
export KUBECONFIG_BASE="$ROLLOUTS_CLUSTER_DIR/kubeconfig" PROJECT_DIR="$REPO"
export SHARDS=${CONFORMANCE_SHARDS:-TestFunctionalSuite=4 TestCanarySuite=2}
# The kit's default suites plus the traffic-router suites that only check the objects written, runnable here once
# the routers' CRDs from Argo's test/e2e/crds are installed (ROUTER_CRDS, below; no mesh runs).
export SUITES=${SUITES:-TestCanarySuite TestBlueGreenSuite TestAnalysisSuite TestFunctionalSuite TestRollbackSuite \
TestExperimentSuite TestIstioSuite TestHeaderRoutingSuite TestMirrorRouteSuite TestSMISuite TestAPISIXSuite \
TestAWSSuite}
ARGO_SRC=${ARGO_SRC:-$HOME/.cache/rollouts-conformance/argo-rollouts}
# The testbed's bin directory with kubectl (the helm/kustomize tool directory sorts first, so pick by content).
TESTBED_BIN=${TESTBED_BIN:-$(dirname "$(ls "$HOME"/.cache/rollouts-testbed/*/bin/kubectl | head -1)")}
export TESTBED_BIN
ROUTER_CRDS=${ROUTER_CRDS-$ARGO_SRC/test/e2e/crds/istio.yaml $ARGO_SRC/test/e2e/crds/split.yaml
$ARGO_SRC/test/e2e/crds/apisix.yaml}

# The project ships its own Experiment CRD (crds/experiments.yaml), so the kit must not install Argo's as a stub
# over it on the project side (the kit's EXTRA_CRDS default predates it).
export EXTRA_CRDS=${EXTRA_CRDS-}

needs_cluster=0
for side in "${SIDES[@]}"; do [ "$side" = compare ] || needs_cluster=1; done
if [ $needs_cluster = 1 ]; then
  say "preparing the kit ($KIT/prepare.sh; cached after the first time)"
  "$KIT/prepare.sh"
  python3 "$REPO/testbed/cluster.py" up
  [ "${CONFORMANCE_KEEP_CLUSTER:-0}" = 1 ] || trap 'python3 "$REPO/testbed/cluster.py" down' EXIT
  # Both controllers see the same routing CRDs (run.sh replaces only the argoproj.io ones between sides).
  for crd in $ROUTER_CRDS; do
    "$TESTBED_BIN/kubectl" --kubeconfig "$KUBECONFIG_BASE" apply --server-side --force-conflicts -f "$crd" >/dev/null
  done
fi
for side in "${SIDES[@]}"; do
  case "$side" in
    argo|project)
      say "running the suites against the $side controller (logs in $OUT/$side)"
      rm -rf "${OUT:?}/$side"
      (cd "$REPO" && OUT_DIR="$OUT/$side" "$KIT/run.sh" "$side") ;;
    parity)
      say "Argo's plugin driving both controllers, objects compared (logs in $OUT/parity)"
      rm -rf "${OUT:?}/parity"; mkdir -p "$OUT/parity"
      (cd "$REPO" && ROLLOUTS_ARGO_PARITY=1 .venv/bin/python -m pytest tests/integration/conformance -q \
        -p no:cacheprovider --basetemp "$OUT/parity/tmp" 2>&1 | tee "$OUT/parity/pytest.log"; exit "${PIPESTATUS[0]}") \
        || { parity_failed=1; say "parity: the controllers differ (see $OUT/parity/pytest.log)"; } ;;
    compare)
      {
        echo "Measured $(date -u +%F) on project commit $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff \
          --quiet HEAD || echo ' (with local changes)') against Argo Rollouts ${ARGO_VERSION:-v1.10.2}" \
          "(E2E_POD_DELAY=${E2E_POD_DELAY:-0}, shards: $SHARDS)"
        echo
        python3 "$KIT/compare.py" "$OUT/argo" "$OUT/project"
      } | tee "$OUT/comparison.md" ;;
    *) echo "unknown step $side (argo, project, parity or compare)" >&2; exit 2 ;;
  esac
done
exit "${parity_failed:-0}"
