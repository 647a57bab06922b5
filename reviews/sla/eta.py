"""Expected completion time of an open invoice, on the business calendar.

Pure functions on plain data. The model: reviewers together decide ``throughput``
invoices per business hour. An invoice at ``queue_position`` p (1 = next to be
claimed) is claimed at about the p-th decision from now, then takes about
``typical_handle_minutes`` to decide. Decisions are treated as a Poisson stream and
handling times as variable (coefficient of variation ``HANDLE_CV``), which gives the
mean and variance of the business minutes still needed; ``low`` and ``high`` are the
10th and 90th percentiles of a gamma distribution with that mean and variance. All
durations are business minutes, turned into instants with the calendar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reviews.sla.calendar import BusinessCalendar, add_business_minutes

__all__ = [
    "HANDLE_CV",
    "EtaBasis",
    "EtaEstimate",
    "estimate_completion",
    "throughput_from_history",
]

HANDLE_CV = 0.75  # spread of one reviewer's handling time (sd / mean)
_Z80 = 1.2815515655446004  # standard normal 90th percentile: an 80 % band


class EtaBasis(StrEnum):
    THROUGHPUT = "throughput"  # queue position and recent reviewer throughput
    SLA_DUE = "sla_due"  # no recent throughput: the SLA deadline is shown
    PAUSED = "paused"  # waiting on the submitter: no estimate until they answer
    UNKNOWN = "unknown"  # nothing to go on


@dataclass(frozen=True)
class EtaEstimate:
    """What the submitter is told; ``basis`` is a stable code for translations."""

    expected_at: datetime | None
    low: datetime | None
    high: datetime | None
    basis: EtaBasis
    message_en: str
    message_zh: str
    due_at: datetime | None = None
    likely_late: bool = False  # expected after the SLA deadline


def _gamma_quantile(mean: float, var: float, z: float) -> float:
    """Wilson-Hilferty approximation of a gamma quantile with given mean/variance."""
    if mean <= 0:
        return 0.0
    if var <= 0:
        return mean
    k = mean * mean / var
    c = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * math.sqrt(k))
    return max(0.0, mean * c**3)


def _sla_fallback(
    cal: BusinessCalendar, now: datetime, due_at: datetime | None
) -> EtaEstimate:
    if due_at is not None and due_at > now:
        return EtaEstimate(
            expected_at=due_at.astimezone(cal.zone),
            low=None,
            high=None,
            basis=EtaBasis.SLA_DUE,
            message_en=(
                "No reviewer decisions were recorded recently, so the expected "
                "completion shown is the SLA deadline."
            ),
            message_zh="近期没有审核完成记录，预计完成时间按 SLA 截止时间显示。",
            due_at=due_at.astimezone(cal.zone),
        )
    past = due_at is not None
    return EtaEstimate(
        expected_at=None,
        low=None,
        high=None,
        basis=EtaBasis.UNKNOWN,
        message_en=(
            "No estimate is available right now: no reviewer decisions were recorded "
            "recently"
            + (
                " and the SLA deadline has passed; it has been escalated."
                if past
                else "."
            )
        ),
        message_zh=(
            "暂时无法估计完成时间：近期没有审核完成记录"
            + ("，且已超过 SLA 截止时间，已升级处理。" if past else "。")
        ),
        due_at=None if due_at is None else due_at.astimezone(cal.zone),
        likely_late=past,
    )


def estimate_completion(
    cal: BusinessCalendar,
    now: datetime,
    queue_position: int,
    reviewers_throughput_per_business_hour: float,
    typical_handle_minutes: float,
    due_at: datetime | None,
    paused: bool,
) -> EtaEstimate:
    """Expected decision time of an open invoice.

    ``queue_position`` is 1-based among queued tasks in claim order (1 = next to be
    claimed); 0 means a reviewer already has it in hand. With no usable throughput
    (zero, negative or not finite) the SLA deadline ``due_at`` is shown instead; when
    ``paused`` (waiting on the submitter) there is no estimate, only the reason.
    """
    if queue_position < 0:
        raise ValueError(f"queue_position must be >= 0, got {queue_position}.")
    if not math.isfinite(typical_handle_minutes) or typical_handle_minutes < 0:
        raise ValueError(
            f"typical_handle_minutes must be >= 0, got {typical_handle_minutes!r}."
        )
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware.")
    zone_due = None if due_at is None else due_at.astimezone(cal.zone)
    if paused:
        return EtaEstimate(
            expected_at=None,
            low=None,
            high=None,
            basis=EtaBasis.PAUSED,
            message_en=(
                "The reviewer asked you for information. The SLA clock is paused "
                "until you answer; an expected completion time will be shown again "
                "once you do."
            ),
            message_zh=(
                "审核人员需要您补充信息。SLA 计时已暂停，"
                "您回复后将重新显示预计完成时间。"
            ),
            due_at=zone_due,
        )
    rate = reviewers_throughput_per_business_hour
    if not math.isfinite(rate) or rate <= 0:
        return _sla_fallback(cal, now, due_at)

    handle = typical_handle_minutes
    gap = 60.0 / rate  # business minutes between two decisions
    if queue_position == 0:
        mean = handle / 2.0  # in hand for an unknown time: half a handling time left
        var = (HANDLE_CV * handle / 2.0) ** 2
    else:
        mean = queue_position * gap + handle
        var = queue_position * gap * gap + (HANDLE_CV * handle) ** 2
    low_m = _gamma_quantile(mean, var, -_Z80)
    high_m = max(mean, _gamma_quantile(mean, var, _Z80))
    low_m = min(low_m, mean)
    expected_at = add_business_minutes(cal, now, mean)
    late = zone_due is not None and expected_at > zone_due

    if queue_position == 0:
        en = "A reviewer is working on your invoice now."
        zh = "审核人员正在处理您的发票。"
    else:
        en = (
            f"Your invoice is number {queue_position} in the review queue; reviewers "
            f"currently decide about {rate:.1f} invoices per business hour, and one "
            f"takes about {handle:.0f} minutes."
        )
        zh = (
            f"您的发票在审核队列中排第 {queue_position} 位；审核人员目前每个工作小时"
            f"约处理 {rate:.1f} 张发票，每张约需 {handle:.0f} 分钟。"
        )
    en += (
        " Times are counted in working hours; weekends and public holidays are skipped."
    )
    zh += "预计时间按工作时间计算，不含周末和法定节假日。"
    if late:
        en += " The queue is long, so the decision may come after the SLA deadline."
        zh += "当前排队较多，可能晚于 SLA 截止时间完成。"
    return EtaEstimate(
        expected_at=expected_at,
        low=add_business_minutes(cal, now, low_m),
        high=add_business_minutes(cal, now, high_m),
        basis=EtaBasis.THROUGHPUT,
        message_en=en,
        message_zh=zh,
        due_at=zone_due,
        likely_late=late,
    )


def throughput_from_history(
    decision_times: Sequence[datetime],
    cal: BusinessCalendar,
    window_end: datetime,
    window_business_hours: float,
) -> float:
    """Decisions per business hour in the last ``window_business_hours`` before
    ``window_end``.

    The window is ``(start, window_end]`` where ``start`` lies ``window_business_hours``
    business hours before ``window_end``; decisions made outside working hours inside
    the window (overtime) count too.
    """
    if not math.isfinite(window_business_hours) or window_business_hours <= 0:
        raise ValueError(
            f"window_business_hours must be > 0, got {window_business_hours!r}."
        )
    end = window_end
    start = add_business_minutes(cal, end, -60.0 * window_business_hours)
    count = sum(1 for t in decision_times if start < t <= end)
    return count / window_business_hours
