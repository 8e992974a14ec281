"""Pure planner throughput: how many ``plan_rollout`` calls per second one core does.

    .venv/bin/python benchmarks/planner_bench.py [--seconds 3] [--json]

The observations are real ones: every state a Rollout passes through during full updates in the planning
tests' simulated world (basic canary 20/40/60/80 with pauses, a traffic-routed canary with NGINX, a
blue-green update with a manual promotion), captured before each reconcile. Parsing the Rollout (pydantic)
is done once when the observation is built, as the controller's informer does; the timed loop is only
``plan_rollout``. Target from issue 3: over 20,000 plans/s.

Spec validation and the steps/template hashes are memoised per (uid, generation), which is what a running
controller sees: a Rollout is re-planned many times per spec generation. ``--cold`` plans copies without a
uid, which the memo never keeps (see ``spec_facts``), as if every reconcile saw a new spec.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollouts.planning import ObservedRollout, plan_rollout
from tests.unit.planning.world import World, blue_green_rollout, canary_rollout

TARGET = 20_000


def _record(world: World, observations: list[tuple[ObservedRollout, object]], plans: int = 40) -> None:
    for _ in range(plans):
        observed = world.observe()
        observations.append((observed, world.now))
        plan = plan_rollout(observed, now=world.now)
        world.apply(plan)
        world.settle()
        if world.status.get("pauseConditions"):
            world.patch_status(pauseConditions=None)
        if plan.requeue_after:
            world.advance(plan.requeue_after)


def observations() -> list[tuple[ObservedRollout, object]]:
    result: list[tuple[ObservedRollout, object]] = []
    steps = [{"setWeight": w} if i % 2 == 0 else {"pause": {}} for i, w in enumerate([20, 0, 40, 0, 60, 0, 80, 0])]
    basic = World(canary_rollout(replicas=10, steps=steps))
    basic.run()
    basic.set_template("web:2")
    _record(basic, result)

    routed = World(
        canary_rollout(
            replicas=10,
            steps=[{"setWeight": 10}, {"pause": {"duration": "1m"}}, {"setWeight": 50}, {"pause": {}}],
            stableService="web-stable",
            canaryService="web-canary",
            trafficRouting={"nginx": {"stableIngress": "web"}},
        ),
        services={"web-stable": {"app": "web"}, "web-canary": {"app": "web"}},
        traffic_routed=True,
    )
    routed.run()
    routed.set_template("web:2")
    _record(routed, result)

    blue = World(
        blue_green_rollout(replicas=3, previewService="web-preview", autoPromotionEnabled=False),
        services={"web-active": {"app": "web"}, "web-preview": {"app": "web"}},
    )
    blue.run()
    blue.set_template("web:2")
    _record(blue, result, plans=20)
    return result


def _without_uid(observed: ObservedRollout) -> ObservedRollout:
    """The same observation for a Rollout without a uid: its spec facts are computed on every plan."""
    rollout = observed.rollout
    metadata = rollout.metadata.model_copy(update={"uid": None})
    return dataclasses.replace(observed, rollout=rollout.model_copy(update={"metadata": metadata}))


def measure(seconds: float, *, cold: bool = False) -> dict[str, float]:
    """Rates per CPU-second of this thread (the machine is shared, so wall time also counts other
    processes' turns) and per wall-second, each the median over rounds of all observations."""
    cases = observations()
    if cold:
        cases = [(_without_uid(observed), now) for observed, now in cases]
    cpu_rates: list[float] = []
    wall_rates: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        wall, cpu = time.perf_counter(), time.thread_time()
        for observed, now in cases:
            plan_rollout(observed, now=now)  # type: ignore[arg-type]
        cpu_rates.append(len(cases) / max(1e-9, time.thread_time() - cpu))
        wall_rates.append(len(cases) / (time.perf_counter() - wall))
    return {
        "observations": float(len(cases)),
        "rounds": float(len(cpu_rates)),
        "plans_per_cpu_second": statistics.median(cpu_rates),
        "plans_per_wall_second": statistics.median(wall_rates),
        "microseconds_per_plan": 1e6 / statistics.median(cpu_rates),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="forget the per-generation spec memo before every plan (validation and hashes recomputed each time)",
    )
    args = parser.parse_args()
    figures = measure(args.seconds, cold=args.cold)
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"planner{' (cold spec memo)' if args.cold else ''}: {figures['plans_per_cpu_second']:,.0f} plans per CPU-second "
            f"({figures['microseconds_per_plan']:.1f} us/plan; {figures['plans_per_wall_second']:,.0f} per wall-second "
            f"on this shared machine; {figures['observations']:.0f} distinct observations x {figures['rounds']:.0f} "
            f"rounds; target > {TARGET:,})"
        )
    return 0 if args.cold or figures["plans_per_cpu_second"] > TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
