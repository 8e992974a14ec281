"""Lease timings are validated, and the write guard refuses once the renew deadline has passed."""

from __future__ import annotations

import pytest

from rollouts.kube.errors import Fenced
from rollouts.kube.leader import LeaderElector, LeaseTimings


@pytest.mark.parametrize(
    ("timings", "message"),
    [
        pytest.param({"retry_period": 0}, "retry period must be positive", id="retry-zero"),
        pytest.param({"renew_deadline": 1, "retry_period": 1}, "renew deadline (1s) must be longer than the retry",
                     id="renew-not-above-retry"),
        pytest.param({"lease_duration": 5, "renew_deadline": 5}, "lease duration (5s) must be longer than the renew",
                     id="lease-not-above-renew"),
    ],
)
def test_inconsistent_timings_are_rejected_with_the_rule(timings: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LeaseTimings(**timings)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_guard_refuses_writes_after_the_renew_deadline_and_steps_down() -> None:
    clock = Clock()
    elector = LeaderElector(None, name="lock", namespace="ns", identity="me",  # type: ignore[arg-type]
                            timings=LeaseTimings(lease_duration=8, renew_deadline=5, retry_period=1), clock=clock)
    with pytest.raises(Fenced, match="does not hold the lease ns/lock"):
        elector.check_write()  # a standby never writes
    elector._valid_until = clock.now + 5  # what a successful renew sent at `now` grants
    elector.leading.set()
    elector.check_write()
    clock.now += 4.9
    elector.check_write()
    clock.now += 0.2  # frozen past the deadline: the next write is refused and the replica steps down
    with pytest.raises(Fenced):
        elector.check_write()
    assert elector.lost.is_set() and not elector.leading.is_set()
    clock.now -= 10  # even a clock that went back cannot revive a replica that stepped down
    with pytest.raises(Fenced):
        elector.check_write()
