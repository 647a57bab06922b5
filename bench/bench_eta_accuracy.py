"""How accurate is the expected completion time shown to submitters?

Simulates a year of the review queue on the 2026 Chinese business calendar: invoices
arrive around the clock (most in office hours, more in the first half of each month,
the tax filing period), N reviewers take them first in, first out, each with a random
handling time, working only in business hours. At every arrival the portal's estimate
(``estimate_completion`` fed with the queue position, the throughput of the last
business day and the recent mean handling time, all as the portal would know them) is
compared with the simulated decision time, next to the naive baseline of showing the
SLA due time. Errors are in business hours.

Run from the repository root:  python bench/bench_eta_accuracy.py [--help]
"""

from __future__ import annotations

import argparse
import bisect
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviews.sla.calendar import (  # noqa: E402
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    china_calendar,
    due_at,
    is_working_day,
    is_working_instant,
)
from reviews.sla.eta import (  # noqa: E402
    EtaBasis,
    estimate_completion,
    throughput_from_history,
)

THROUGHPUT_WINDOW_HOURS = 8.0  # one business day
HANDLE_HISTORY = 50  # decisions used for the typical handling time


@dataclass
class Task:
    arrived: datetime
    arrived_b: float  # business minutes since the simulation origin
    started_b: float = 0.0
    handle: float = 0.0
    decided: datetime | None = None


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; lam is small (arrivals per hour).
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _hour_weight(cal: BusinessCalendar, day: date, hour: int) -> float:
    """Relative arrival intensity of a local hour."""
    if not is_working_day(cal, day):
        return 0.08
    if 9 <= hour < 18:
        return 1.0 if hour != 12 else 0.5
    if hour in (8, 18, 19, 20):
        return 0.3
    return 0.03


def simulate_arrivals(
    cal: BusinessCalendar, rng: random.Random, per_working_day: float, year: int
) -> list[datetime]:
    zone = cal.zone
    day = date(year, 1, 1)
    weights_workday = sum(_hour_weight(cal, date(year, 3, 2), h) for h in range(24))
    arrivals = []
    while day.year == year:
        filing = 1.25 if day.day <= 15 else 0.8  # tax filing period peak
        for hour in range(24):
            lam = per_working_day * filing * _hour_weight(cal, day, hour)
            lam /= weights_workday
            start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            for _ in range(_poisson(rng, lam)):
                arrivals.append(start + timedelta(seconds=rng.uniform(0, 3600)))
        day += timedelta(days=1)
    arrivals.sort()
    return arrivals


def simulate_queue(
    cal: BusinessCalendar,
    rng: random.Random,
    arrivals: list[datetime],
    reviewers: int,
    mean_handle: float,
    handle_cv: float,
) -> list[Task]:
    """FIFO multi-server queue, run on the business-minute axis."""
    sigma = math.sqrt(math.log(1 + handle_cv**2))
    speed = [rng.uniform(0.8, 1.25) for _ in range(reviewers)]
    free_b = [0.0] * reviewers
    free_at: list[datetime | None] = [None] * reviewers
    origin = arrivals[0]
    tasks = []
    prev, prev_b = origin, 0.0
    for arrived in arrivals:
        arrived_b = prev_b + business_minutes_between(cal, prev, arrived)
        prev, prev_b = arrived, arrived_b
        r = min(range(reviewers), key=free_b.__getitem__)
        mu = math.log(mean_handle * speed[r]) - sigma**2 / 2
        handle = rng.lognormvariate(mu, sigma)
        task = Task(arrived=arrived, arrived_b=arrived_b, handle=handle)
        if free_b[r] <= arrived_b or free_at[r] is None:
            task.started_b, start_wall = arrived_b, arrived
        else:
            task.started_b, start_wall = free_b[r], free_at[r]
        task.decided = add_business_minutes(cal, start_wall, handle)
        free_b[r] = task.started_b + handle
        free_at[r] = task.decided
        tasks.append(task)
    return tasks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(name: str, errors: list[float], signed: list[float]) -> str:
    return (
        f"{name:<28} MAE {statistics.fmean(errors):6.2f} h   "
        f"p50 {percentile(errors, 0.5):6.2f} h   "
        f"p90 {percentile(errors, 0.9):6.2f} h   "
        f"bias {statistics.fmean(signed):+6.2f} h"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", type=int, default=4)
    parser.add_argument("--mean-handle", type=float, default=25.0, help="minutes")
    parser.add_argument("--handle-cv", type=float, default=0.6)
    parser.add_argument(
        "--load", type=float, default=0.75, help="arrivals / capacity per working day"
    )
    parser.add_argument("--sla-minutes", type=float, default=480.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    cal = china_calendar(2026)
    rng = random.Random(args.seed)
    capacity = args.reviewers * cal.minutes_per_working_day / args.mean_handle
    arrivals = simulate_arrivals(cal, rng, args.load * capacity, 2026)
    tasks = simulate_queue(
        cal, rng, arrivals, args.reviewers, args.mean_handle, args.handle_cv
    )

    by_decision = sorted(tasks, key=lambda t: t.decided)
    decided = [t.decided for t in by_decision]
    started = [t.started_b for t in tasks]  # FIFO: non-decreasing

    err_eta, signed_eta, err_sla, signed_sla = [], [], [], []
    err_eta_office, err_eta_off = [], []
    covered = banded = late_flags = late_right = 0
    bases: dict[EtaBasis, int] = {}
    for i, task in enumerate(tasks):
        now = task.arrived
        position = i - bisect.bisect_right(started, task.arrived_b, 0, i) + 1
        known = bisect.bisect_right(decided, now)
        recent = decided[bisect.bisect_left(decided, now - timedelta(days=21)) : known]
        rate = throughput_from_history(recent, cal, now, THROUGHPUT_WINDOW_HOURS)
        handles = [
            t.handle for t in by_decision[max(0, known - HANDLE_HISTORY) : known]
        ]
        typical = statistics.fmean(handles) if handles else args.mean_handle
        due = due_at(cal, now, args.sla_minutes)
        eta = estimate_completion(cal, now, position, rate, typical, due, paused=False)
        bases[eta.basis] = bases.get(eta.basis, 0) + 1

        actual = task.decided
        assert actual is not None and due is not None
        expected = eta.expected_at or due
        e = business_minutes_between(cal, actual, expected) / 60
        s = business_minutes_between(cal, actual, due) / 60
        err_eta.append(abs(e))
        signed_eta.append(e)
        err_sla.append(abs(s))
        signed_sla.append(s)
        (err_eta_office if is_working_instant(cal, now) else err_eta_off).append(abs(e))
        if eta.low is not None and eta.high is not None:
            banded += 1
            covered += eta.low <= actual <= eta.high
        if eta.likely_late:
            late_flags += 1
            late_right += actual > due

    waits = [business_minutes_between(cal, t.arrived, t.decided) / 60 for t in tasks]
    breaches = sum(w * 60 > args.sla_minutes for w in waits)
    print(
        f"ETA accuracy: 2026 calendar, {args.reviewers} reviewers, "
        f"handling {args.mean_handle:.0f} min (cv {args.handle_cv}), load {args.load}, "
        f"SLA {args.sla_minutes:.0f} business min, seed {args.seed}"
    )
    print(
        f"invoices {len(tasks)}; business hours to decision: mean "
        f"{statistics.fmean(waits):.2f}, p50 {percentile(waits, 0.5):.2f}, "
        f"p90 {percentile(waits, 0.9):.2f}, max {max(waits):.2f}; "
        f"SLA breaches {breaches} ({100 * breaches / len(tasks):.1f} %)"
    )
    print(summary("estimate_completion", err_eta, signed_eta))
    print(summary("baseline: SLA due time", err_sla, signed_sla))
    ratio = statistics.fmean(err_eta) / statistics.fmean(err_sla)
    print(f"MAE ratio estimate/baseline {ratio:.3f}")
    print(
        f"  arrivals in office hours: MAE {statistics.fmean(err_eta_office):.2f} h "
        f"(n={len(err_eta_office)}); "
        f"outside: MAE {statistics.fmean(err_eta_off):.2f} h (n={len(err_eta_off)})"
    )
    print(
        f"  80 % band [low, high] contains the decision: "
        f"{100 * covered / max(banded, 1):.1f} % of {banded}"
    )
    print(
        f"  flagged likely late: {late_flags}, of which actually late: {late_right}; "
        f"bases: " + ", ".join(f"{b.value}={n}" for b, n in sorted(bases.items()))
    )
    print(f"  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
