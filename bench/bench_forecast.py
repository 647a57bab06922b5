"""Does the breach forecast see breaches coming?

A pure-Python simulation (no database): SIMULATED are the arrivals (Poisson, a
seeded daily volume with surge days), the priorities and their SLA targets (the
shipped policies: 4, 8 and 16 business hours), the reviewers on shift (a seeded
head-count per day, some leaving early without notice) and each task's handling
time (lognormal, mean 30 min). Reviewers take tasks in claim order (due first,
then priority). REAL is the forecast: every 15 business minutes
``insight.forecast.forecast_breaches`` runs on the open tasks as they stand, with
the inputs the portal measures (reviewers who worked in the last 90 business
minutes, per-reviewer pace over the last 8 business hours, mean of the last 50
handling times), on the default business calendar.

Of the tasks that really breach, how many were flagged at least 2 business hours
before their due time (recall, target >= 90 %), how many of those flags were right
(precision, target >= 70 %), and the median lead time.

Run from the repository root:
    .venv/bin/python bench/bench_forecast.py [--days 12] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import os
import random
import statistics
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "invoiceportal.settings")

import django  # noqa: E402

django.setup()

from insight.forecast import OpenTask, forecast_breaches  # noqa: E402
from reviews.sla.calendar import BusinessCalendar, add_business_minutes  # noqa: E402

CAL = BusinessCalendar()
DAY = CAL.minutes_per_working_day  # 480
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Monday
TARGETS = [(2, 240, 0.10), (1, 480, 0.20), (0, 960, 0.70)]
STEP = 15
LEAD = 120


def pick(r: float) -> tuple[int, int]:
    """A priority and its SLA target from a uniform draw."""
    acc = 0.0
    for priority, target, share in TARGETS:
        acc += share
        if r <= acc:
            return priority, target
    return TARGETS[-1][0], TARGETS[-1][1]


def simulate(days: int, seed: int) -> dict:
    rng = random.Random(seed)
    total = days * DAY
    # Arrivals: a daily volume around 85 tasks, surge days up to 1.6x.
    arrivals = []
    for day in range(days + 2):  # two more days feed the tail, not scored
        volume = rng.choice([60, 70, 80, 85, 90, 100, 140])
        t = day * DAY
        while True:
            t += rng.expovariate(volume / DAY)
            if t >= (day + 1) * DAY:
                break
            priority, target = pick(rng.random())
            arrivals.append((t, priority, t + target))
    # Staffing: 4-6 reviewers a day; on some days one or two leave at a random time.
    shifts = []  # (reviewers at the start, after the leave, leave minute)
    for _day in range(days + 2):
        crew = rng.choice([4, 5, 5, 6])
        leave = rng.randint(1, 2) if rng.random() < 0.3 else 0
        shifts.append((crew, crew - leave, rng.uniform(60, DAY - 60)))

    def crew_at(t: float) -> int:
        day = int(t // DAY)
        crew, after, leave = shifts[day]
        return after if t - day * DAY >= leave else crew

    tasks = {}  # id -> dict(arrival, priority, due, start, done)
    queue: list[tuple[float, int, int]] = []  # (due, -priority, id)
    busy: list[tuple[float, int]] = []  # (free at, task id)
    decisions: list[tuple[float, float]] = []  # (decided at, handle minutes)
    flags: dict[int, float] = {}  # task -> first flag at lead >= LEAD
    any_flag: dict[int, float] = {}
    next_arrival = 0
    t = 0.0
    horizon_minutes = DAY
    while t < (days + 2) * DAY:
        # Finish work, take arrivals, hand out tasks.
        while busy and busy[0][0] <= t:
            done_at, tid = heapq.heappop(busy)
            tasks[tid]["done"] = done_at
            decisions.append((done_at, done_at - tasks[tid]["start"]))
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= t:
            at, priority, due = arrivals[next_arrival]
            tasks[next_arrival] = {
                "arrival": at,
                "priority": priority,
                "due": due,
                "start": None,
                "done": None,
            }
            heapq.heappush(queue, (due, -priority, next_arrival))
            next_arrival += 1
        while queue and len(busy) < crew_at(t):
            _due, _p, tid = heapq.heappop(queue)
            tasks[tid]["start"] = t
            handle = rng.lognormvariate(math.log(30) - 0.125, 0.5)
            heapq.heappush(busy, (t + handle, tid))
        # Forecast, as the portal would compute it now.
        if t % STEP == 0 and t < total:
            recent = [d for d in decisions if d[0] > t - 8 * 60]
            worked = sum(crew_at(x) for x in range(int(max(0, t - 480)), int(t))) / 60.0
            pace = len(recent) / worked if worked and recent else 0.0
            last = [h for _d, h in decisions[-50:]]
            handle = statistics.fmean(last) if last else 20.0
            on_shift = crew_at(max(0.0, t - 1)) if t else crew_at(0)
            now = add_business_minutes(CAL, START, t)
            open_tasks = [
                OpenTask(
                    tid,
                    add_business_minutes(CAL, START, task["due"]),
                    task["priority"],
                    task["start"] is not None,
                )
                for tid, task in tasks.items()
                if task["done"] is None and task["due"] > t
            ]
            forecast = forecast_breaches(
                open_tasks,
                cal=CAL,
                now=now,
                horizon_end=add_business_minutes(CAL, now, horizon_minutes),
                reviewers_on_shift=on_shift,
                per_reviewer_per_hour=pace,
                handle_minutes=handle,
            )
            for flagged in forecast.breaching:
                any_flag.setdefault(flagged.id, t)
                if tasks[flagged.id]["due"] - t >= LEAD:
                    flags.setdefault(flagged.id, t)
        t += 1.0
    scored = {tid: task for tid, task in tasks.items() if task["due"] <= total}
    breached = {
        tid
        for tid, task in scored.items()
        if task["done"] is None or task["done"] > task["due"]
    }
    early = {tid for tid in flags if tid in scored}
    hits = breached & early
    any_scored = {tid for tid in any_flag if tid in scored}
    leads = [(scored[tid]["due"] - flags[tid]) / 60 for tid in hits]
    return {
        "tasks": len(scored),
        "breached": len(breached),
        "flagged_early": len(early),
        "flagged_any": len(any_scored),
        "recall": len(hits) / len(breached) if breached else float("nan"),
        "precision": len(hits) / len(early) if early else float("nan"),
        "precision_any": (
            len(breached & any_scored) / len(any_scored) if any_scored else float("nan")
        ),
        "lead_median_h": statistics.median(leads) if leads else float("nan"),
        "leads": leads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=5, help="runs, seed, seed+1...")
    args = parser.parse_args()
    if args.days < 10:
        sys.exit("Simulate at least 10 business days.")
    totals = {"tasks": 0, "breached": 0, "hits": 0, "early": 0}
    leads = []
    print(f"{args.days} business days per run, forecast every {STEP} business minutes")
    for seed in range(args.seed, args.seed + args.seeds):
        r = simulate(args.days, seed)
        hits = round(r["recall"] * r["breached"]) if r["breached"] else 0
        totals["tasks"] += r["tasks"]
        totals["breached"] += r["breached"]
        totals["hits"] += hits
        totals["early"] += r["flagged_early"]
        leads.extend(r["leads"])
        print(
            f"  seed {seed}: {r['tasks']} tasks, {r['breached']} breached; "
            f"recall {r['recall']:.1%}, precision {r['precision']:.1%} "
            f"(any-lead flags {r['precision_any']:.1%}), "
            f"median lead {r['lead_median_h']:.2f} business h"
        )
    recall = totals["hits"] / totals["breached"] if totals["breached"] else float("nan")
    precision = totals["hits"] / totals["early"] if totals["early"] else float("nan")
    print(
        f"all runs: {totals['tasks']} tasks, {totals['breached']} breached; "
        f"recall (flagged >= 2 business h ahead) {recall:.1%} (target >= 90 %), "
        f"precision {precision:.1%} (target >= 70 %), "
        f"median lead {statistics.median(leads) if leads else float('nan'):.2f} "
        "business h"
    )


if __name__ == "__main__":
    main()
