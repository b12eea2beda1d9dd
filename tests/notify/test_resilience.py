"""The circuit breaker and the retry backoff, on the injected clock."""

from __future__ import annotations

from datetime import timedelta

from services.notify.breaker import BreakerState, CircuitBreaker
from services.notify.delivery import RetryPolicy
from shared.clock import SimulatedClock


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read afresh: mypy would carry over what an earlier `assert` on
    `breaker.state` narrowed it to, though the calls in between change it."""
    return breaker.state


def test_a_breaker_opens_after_failures_in_a_row_and_lets_one_trial_through_later() -> None:
    clock = SimulatedClock()
    breaker = CircuitBreaker("smtp", threshold=3, open_for=timedelta(seconds=30), clock=clock)
    breaker.record_failure()
    breaker.record_success()  # a success in between: the count starts again
    breaker.record_failure()
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.closed
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.open
    assert 29 <= breaker.seconds_until_trial() <= 30
    clock.advance(timedelta(seconds=31))
    assert state_of(breaker) is BreakerState.half_open


def test_a_failed_trial_opens_the_breaker_again_and_a_good_one_closes_it() -> None:
    clock = SimulatedClock()
    breaker = CircuitBreaker("sms", threshold=1, open_for=timedelta(seconds=10), clock=clock)
    breaker.record_failure()
    clock.advance(timedelta(seconds=11))
    breaker.record_failure()  # the trial failed
    assert state_of(breaker) is BreakerState.open
    clock.advance(timedelta(seconds=11))
    breaker.record_success()
    assert state_of(breaker) is BreakerState.closed
    assert breaker.seconds_until_trial() == 0


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_s=2, cap_s=60)
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (12, 60)):
        delays = [policy.delay(attempt).total_seconds() for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # spread out, not all together
