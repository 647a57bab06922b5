"""The bench figures of two revisions side by side: did a change make anything slower?

    .venv/bin/python bench/compare_revisions.py [--base 4c50e8c] [--head HEAD]
        [--rounds 3] [--only screening,claims,...] [--json out.json]

Checks the base revision out with ``git worktree add --detach /tmp/bench-base <BASE>``
and, unless ``--head-dir`` names a tree to use as it is, the head revision the same way
in /tmp/bench-head (so edits in progress in the working tree do not enter the head
figures). Both run with this repository's virtualenv (``--python``; the base's pins are
a subset of the head's at the same versions). The ``.mo`` catalogues, which git does not
hold, are compiled into each checkout with ``msgfmt``.

Each bench runs its OWN revision's bench script (their data set-up follows their own
schema), with the same size flags on both sides, on its own scratch PostgreSQL database
(``cmp_<bench>_<side>``, recreated by the bench). Base and head alternate within every
round, the first side swapping from round to round (A B, B A, A B ...), so both see the
same machine on a shared host. Per figure it prints the base median, the head median,
head/base and a verdict: ``worse`` when head is more than ``--threshold`` (1.10) worse
than base AND every head round is worse than every base round (outside the round
spread); ``better`` symmetrically; ``same`` otherwise. Figures marked ``control`` do
not depend on the application code (bare inserts, raw SQL claims, a minimal view): they
show how much the machine moved during the run.

A bench missing at a revision is reported and skipped. The worktrees are removed at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
# Fixed places in /tmp: the worktrees are throwaway checkouts, never the working tree.
BASE_TREE = Path("/tmp/bench-base")  # noqa: S108
HEAD_TREE = Path("/tmp/bench-head")  # noqa: S108
LOGS = "/tmp/bench-compare-logs"  # noqa: S108

# The reviewer loop measured through the claims bench's own helpers (its main() also
# runs the raw-SQL and audit-sealing variants, which are not needed here). Runs with
# the checkout as working directory; prints one JSON line.
CLAIMS_DRIVER = r"""
import json, sys
sys.path.insert(0, "bench")
import bench_claims as b
tasks, workers = int(sys.argv[1]), int(sys.argv[2])
b.setup_django()
org, submitter, reviewers = b.people(workers)
out = {}
b.fill_queue(tasks, org=org, submitter=submitter)
out["claim"] = b.run(b._service_worker, [(u.pk, "claim") for u in reviewers])
b.fill_queue(tasks, org=org, submitter=submitter)
out["raw"] = b.run(b._raw_worker, [(u.pk, u.organization_id) for u in reviewers])
b.fill_queue(tasks, org=org, submitter=submitter)
out["decide"] = b.run(b._service_worker, [(u.pk, "decide") for u in reviewers])
out["decide_check"] = b.check_database(tasks, decided=True)
print("RESULT " + json.dumps(out))
"""


@dataclasses.dataclass(frozen=True)
class Figure:
    value: float
    higher_is_better: bool
    unit: str
    control: bool = False


Parser = Callable[[str], dict[str, Figure]]


@dataclasses.dataclass
class Bench:
    name: str
    script: str  # path in the checkout; the bench is skipped where it is missing
    argv: Callable[[argparse.Namespace], list[str]]
    parse: Parser
    db_env: str  # DATABASE_URL or BENCH_DATABASE_URL
    timeout: int = 900
    # Mends a checkout's copy of the bench so that it runs there; returns the script
    # to run instead (in the checkout), or None.
    fixup: Callable[[Path], str | None] | None = None


def _num(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    if not match:
        raise ValueError(f"figure not found: {pattern}")
    return float(match.group(1))


def parse_screening(out: str) -> dict[str, Figure]:
    return {
        "one worker draining the queue": Figure(
            _num(r"draining \d+ queued invoices: ([\d.]+) invoices/s", out),
            True,
            "invoices/s",
        ),
        "single invoice upload->decision p50": Figure(
            _num(r"idle system .*?median (\d+) ms", out), False, "ms"
        ),
        "uploads through the API (worker running)": Figure(
            _num(r"\(([\d.]+)/s through the API\)", out), True, "uploads/s"
        ),
        "uploads + worker end to end": Figure(
            _num(r"\(([\d.]+) invoices/s end to end\)", out), True, "invoices/s"
        ),
        "bare insert of the same rows": Figure(
            _num(r"bare inserts of the same rows: ([\d.]+) ms/invoice", out),
            False,
            "ms",
            control=True,
        ),
    }


def parse_claims(out: str) -> dict[str, Figure]:
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    check = data["decide_check"]
    if check.get("invoices_decided_twice") or any(
        data[k]["double_claims"] for k in ("claim", "decide", "raw")
    ):
        raise ValueError(f"double claims or decisions: {data}")
    return {
        "claim + decide (reviewer loop)": Figure(
            data["decide"]["claims_per_s"], True, "claims/s"
        ),
        "claim + decide: claim p50": Figure(data["decide"]["p50_ms"], False, "ms"),
        "claim + decide: claim p95": Figure(data["decide"]["p95_ms"], False, "ms"),
        "claim only": Figure(data["claim"]["claims_per_s"], True, "claims/s"),
        "claim only p95": Figure(data["claim"]["p95_ms"], False, "ms"),
        "raw SQL claim": Figure(
            data["raw"]["claims_per_s"], True, "claims/s", control=True
        ),
    }


def parse_queue_page(out: str) -> dict[str, Figure]:
    figures = {}
    pattern = r"^(.+?)\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms\s+(\d+) queries"
    for name, p50, p95, queries in re.findall(pattern, out, re.M):
        name = name.strip()
        figures[f"{name} p50"] = Figure(float(p50), False, "ms")
        figures[f"{name} p95"] = Figure(float(p95), False, "ms")
        figures[f"{name} queries"] = Figure(float(queries), False, "queries")
    if not figures:
        raise ValueError("no queue page figures")
    return figures


def parse_status(out: str) -> dict[str, Figure]:
    figures = {}
    pattern = r"^(\S.+?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$"
    for name, _n, p50, p95, _p99 in re.findall(pattern, out, re.M):
        name = name.strip()
        # "page 18,000" differs with --invoices only; same sizes on both sides
        control = name.startswith("minimal")
        figures[f"{name} p50"] = Figure(float(p50), False, "ms", control)
        figures[f"{name} p95"] = Figure(float(p95), False, "ms", control)
    if not figures:
        raise ValueError("no status figures")
    return figures


def parse_extraction(out: str) -> dict[str, Figure]:
    figures = {}
    pattern = r"^(xml|ofd-digital|ofd-legacy)\s+\d+\s+([\d.]+)\s+\d+\s+\d+\s+(\d+)\s"
    for name, accuracy, per_s in re.findall(pattern, out, re.M):
        figures[f"{name} docs/s"] = Figure(float(per_s), True, "docs/s")
        figures[f"{name} field accuracy"] = Figure(float(accuracy), True, "")
    if not figures:
        raise ValueError("no extraction figures")
    return figures


def fix_status_bench(tree: Path) -> str | None:
    """At 4c50e8c the status bench's bulk INSERT left out three NOT NULL columns added
    by then (extras, qr_payload, idempotency_fingerprint) and failed; head's copy adds
    them (and corrected_fields, which the base does not have). Writes the base's
    script with those three columns into the checkout as a separate file."""
    script = tree / "bench" / "bench_status_endpoint.py"
    text = script.read_text()
    if "extras" in text:
        return None
    fixed = text.replace(
        "              updated_at)\n",
        "              updated_at, extras, qr_payload, idempotency_fingerprint)\n",
    ).replace(
        "now() - make_interval(secs => g * 7), NULL, now()\n",
        "now() - make_interval(secs => g * 7), NULL, now(), '{}', '', ''\n",
    )
    if fixed.count("idempotency_fingerprint") != 1 or "'{}', '', ''" not in fixed:
        return None  # not the text expected: run it as it is (and report its failure)
    target = script.with_name("_cmp_bench_status_endpoint.py")
    target.write_text(fixed)
    return "bench/_cmp_bench_status_endpoint.py"


BENCHES = [
    Bench(
        "screening",
        "bench/bench_screening.py",
        lambda a: [
            "bench/bench_screening.py",
            "--count",
            str(a.screening_count),
            "--single",
            "5",
        ],
        parse_screening,
        "BENCH_DATABASE_URL",
    ),
    Bench(
        "claims",
        "bench/bench_claims.py",
        lambda a: ["-c", CLAIMS_DRIVER, str(a.claim_tasks), str(a.claim_workers)],
        parse_claims,
        "DATABASE_URL",
    ),
    Bench(
        "queue_page",
        "bench/bench_queue_page.py",
        lambda a: [
            "bench/bench_queue_page.py",
            "--tasks",
            str(a.queue_tasks),
            "--requests",
            str(a.page_requests),
        ],
        parse_queue_page,
        "DATABASE_URL",
    ),
    Bench(
        "status_endpoint",
        "bench/bench_status_endpoint.py",
        lambda a: [
            "bench/bench_status_endpoint.py",
            "--invoices",
            str(a.status_invoices),
            "--requests",
            str(a.status_requests),
        ],
        parse_status,
        "BENCH_DATABASE_URL",
        fixup=fix_status_bench,
    ),
    Bench(
        "extraction_structured",
        "bench/bench_extraction_structured.py",
        lambda a: ["bench/bench_extraction_structured.py", "--docs", "300"],
        parse_extraction,
        "DATABASE_URL",
    ),
    # Present only from the refactor on: skipped where the base lacks them.
    Bench(
        "task_page",
        "bench/bench_task_page.py",
        lambda a: ["bench/bench_task_page.py"],
        parse_queue_page,
        "DATABASE_URL",
    ),
    Bench(
        "metrics_scrape",
        "bench/bench_metrics_scrape.py",
        lambda a: ["bench/bench_metrics_scrape.py"],
        parse_queue_page,
        "DATABASE_URL",
    ),
    Bench(
        "performance_page",
        "bench/bench_performance_page.py",
        lambda a: ["bench/bench_performance_page.py"],
        parse_queue_page,
        "DATABASE_URL",
    ),
]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def checkout(rev: str, path: Path) -> Path:
    """A detached worktree of ``rev`` at ``path`` (reused when already there at rev),
    with its translation catalogues compiled."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if path.exists():
        current = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if current != sha:
            raise SystemExit(f"{path} exists at another revision; remove it first")
    else:
        git("worktree", "add", "--detach", str(path), sha)
    for po in path.glob("locale/*/LC_MESSAGES/*.po"):
        subprocess.run(
            ["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True
        )
    return path


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run_once(
    bench: Bench, side: str, tree: Path, args: argparse.Namespace
) -> dict[str, Figure] | str:
    """The bench's figures, or the reason it gave none."""
    env = {
        **os.environ,
        bench.db_env: f"{PG}/cmp_{bench.name}_{side}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG_LEVEL": "WARNING",  # head only: no access line per request
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = bench.argv(args)
    if bench.fixup and tree in args.own_trees:  # never write into a working tree
        replacement = bench.fixup(tree)
        if replacement:
            argv = [replacement if a == bench.script else a for a in argv]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [args.python, *argv],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=bench.timeout,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {bench.timeout} s"
    took = time.monotonic() - started
    log = Path(args.logs) / f"{bench.name}-{side}-{int(time.time())}.log"
    log.write_text(proc.stdout + "\n--- stderr\n" + proc.stderr)
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return f"exit {proc.returncode}: {' '.join(tail)} (log {log})"
    try:
        figures = bench.parse(proc.stdout)
    except (ValueError, StopIteration, KeyError) as exc:
        return f"unreadable output: {exc} (log {log})"
    print(f"    {side:<4} {bench.name:<22} {took:6.1f} s", flush=True)
    return figures


def verdict(base: list[float], head: list[float], higher: bool, limit: float) -> str:
    b, h = statistics.median(base), statistics.median(head)
    if b == 0 or h == 0:
        return "same" if b == h else "n/a"
    slower = b / h if higher else h / b  # > 1: head worse
    if slower > limit and (
        (max(head) < min(base)) if higher else (min(head) > max(base))
    ):
        return "WORSE"
    if 1 / slower > limit and (
        (min(head) > max(base)) if higher else (max(head) < min(base))
    ):
        return "better"
    return "same"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="4c50e8c")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument(
        "--head-dir", default="", help="use this tree as head as it is (no worktree)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="comma-separated bench names (default: all)"
    )
    parser.add_argument("--threshold", type=float, default=1.10)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--screening-count", type=int, default=150)
    parser.add_argument("--claim-tasks", type=int, default=3000)
    parser.add_argument("--claim-workers", type=int, default=8)
    parser.add_argument("--queue-tasks", type=int, default=5000)
    parser.add_argument("--page-requests", type=int, default=60)
    parser.add_argument("--status-invoices", type=int, default=200_000)
    parser.add_argument("--status-requests", type=int, default=600)
    parser.add_argument("--json", default="", help="write every round's figures here")
    parser.add_argument("--logs", default=LOGS)
    parser.add_argument("--keep", action="store_true", help="keep the worktrees")
    args = parser.parse_args()
    Path(args.logs).mkdir(parents=True, exist_ok=True)

    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {b.name for b in BENCHES}
    if unknown:
        raise SystemExit(f"unknown benches: {', '.join(sorted(unknown))}")
    benches = [b for b in BENCHES if not wanted or b.name in wanted]

    made = []
    trees = {"base": checkout(args.base, BASE_TREE)}
    made.append(trees["base"])
    if args.head_dir:
        trees["head"] = Path(args.head_dir).resolve()
    else:
        trees["head"] = checkout(args.head, HEAD_TREE)
        made.append(trees["head"])
    args.own_trees = made
    revs = {
        side: subprocess.run(
            ["git", "-C", str(tree), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
        ).stdout.strip()[:70]
        for side, tree in trees.items()
    }
    start_load = uptime()
    print(f"base {revs['base']}\nhead {revs['head']}  ({trees['head']})")
    print(f"start: {start_load}", flush=True)

    skipped: dict[str, str] = {}
    for bench in benches:
        missing = [s for s, t in trees.items() if not (t / bench.script).exists()]
        if missing:
            skipped[bench.name] = f"{bench.script} not in {' and '.join(missing)}"
    runnable = [b for b in benches if b.name not in skipped]

    results: dict[str, dict[str, list[dict[str, Figure]]]] = {
        b.name: {"base": [], "head": []} for b in runnable
    }
    for round_no in range(args.rounds):
        order = ("base", "head") if round_no % 2 == 0 else ("head", "base")
        print(f"round {round_no + 1}/{args.rounds} ({' '.join(order)})", flush=True)
        for bench in runnable:
            if bench.name in skipped:
                continue
            for side in order:
                got = run_once(bench, side, trees[side], args)
                if isinstance(got, str):
                    skipped[bench.name] = f"{side}: {got}"
                    print(f"    {side:<4} {bench.name:<22} FAILED {got}", flush=True)
                    break
                results[bench.name][side].append(got)
    end_load = uptime()

    rows = []
    for bench in runnable:
        if bench.name in skipped:
            continue
        base_runs, head_runs = results[bench.name]["base"], results[bench.name]["head"]
        for figure, first in base_runs[0].items():
            if not all(figure in r for r in head_runs):
                continue
            base = [r[figure].value for r in base_runs]
            head = [r[figure].value for r in head_runs]
            b, h = statistics.median(base), statistics.median(head)
            rows.append(
                {
                    "bench": bench.name,
                    "figure": figure,
                    "unit": first.unit,
                    "higher_is_better": first.higher_is_better,
                    "control": first.control,
                    "base": base,
                    "head": head,
                    "base_median": b,
                    "head_median": h,
                    "ratio": h / b if b else None,
                    "verdict": "control"
                    if first.control
                    else verdict(base, head, first.higher_is_better, args.threshold),
                }
            )

    print()
    print(f"{'bench':<22} {'figure':<50} {'base':>10} {'head':>10} {'head/base':>9}  ")
    for row in rows:
        arrow = "↑" if row["higher_is_better"] else "↓"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        spread = (
            f"[{min(row['base']):.4g}–{max(row['base']):.4g} | "
            f"{min(row['head']):.4g}–{max(row['head']):.4g}]"
        )
        print(
            f"{row['bench']:<22} {row['figure'][:46] + ' ' + arrow:<50} "
            f"{row['base_median']:>10.4g} {row['head_median']:>10.4g} {ratio:>9}  "
            f"{row['verdict']:<8} {row['unit']} {spread}"
        )
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    print(
        f"\n{args.rounds} rounds; ↑ higher is better, ↓ lower is better; "
        f"[base min–max | head min–max]"
    )
    print(f"start: {start_load}\nend:   {end_load}")

    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "revisions": revs,
                    "uptime": [start_load, end_load],
                    "rows": rows,
                    "skipped": skipped,
                },
                indent=1,
                ensure_ascii=False,
            )
        )
    if not args.keep:
        for tree in made:
            git("worktree", "remove", "--force", str(tree))


if __name__ == "__main__":
    main()
