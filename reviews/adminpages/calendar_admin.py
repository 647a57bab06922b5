"""The business calendar, administered: a year's holidays and make-up workdays (调休)
loaded from the ``chinesecalendar`` package or a CSV file, always previewed first.

An import replaces the holidays and make-up workdays of the years it covers, audits
the change, moves the deadlines of open tasks to the new calendar (each task keeps its
own SLA target) and clears the cached calendar.
"""

from __future__ import annotations

import calendar as pycalendar
import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.csvtext import decode_csv_bytes
from invoiceportal.common.errors import ApplicationError
from reviews.models import (
    OPEN_STATES,
    Holiday,
    MakeupWorkday,
    ReviewTask,
    WorkingPeriod,
)
from reviews.queue.calendar import CALENDAR_TZ, calendar_changed, calendar_from_rows
from reviews.queue.sla import pause_intervals, schedule
from reviews.sla.calendar import BusinessCalendar

from .services import require_admin

PACKAGE = "chinesecalendar"
MAX_CSV_BYTES = 256 * 1024
MAX_CSV_ROWS = 2000
NAME_MAX = 100


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    WORKDAY = "workday", _("Make-up workday")


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    kind: str
    name: str


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str


@dataclass
class CalendarPlan:
    """What an import would do: the days it brings and how the stored ones change."""

    source: str
    days: list[CalendarDay]
    years: list[int]
    added: list[CalendarDay] = field(default_factory=list)
    removed: list[CalendarDay] = field(default_factory=list)
    unchanged: int = 0

    @property
    def holidays(self) -> int:
        return sum(1 for d in self.days if d.kind == DayKind.HOLIDAY)

    @property
    def workdays(self) -> int:
        return sum(1 for d in self.days if d.kind == DayKind.WORKDAY)


class CalendarCsvError(ApplicationError):
    """A CSV file refused as a whole, with its problems by line."""

    default_code = "invalid_calendar_csv"

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__(
            _(
                "The file was not imported: %(count)s problem(s). Correct the lines "
                "listed and upload it again."
            )
            % {"count": len(problems)},
            details={
                "lines": [{"line": p.line, "message": p.message} for p in problems]
            },
        )
        self.problems = problems


# ------------------------------------------------------------------------ reading


def stored_days(years: list[int] | None = None) -> list[CalendarDay]:
    """Holidays and make-up workdays stored, by date (of the given years)."""
    holidays = Holiday.objects.all()
    workdays = MakeupWorkday.objects.all()
    if years is not None:
        holidays = holidays.filter(date__year__in=years)
        workdays = workdays.filter(date__year__in=years)
    days = [CalendarDay(h.date, DayKind.HOLIDAY, h.name) for h in holidays] + [
        CalendarDay(w.date, DayKind.WORKDAY, w.name) for w in workdays
    ]
    return sorted(days, key=lambda d: d.date)


def loaded_years() -> list[int]:
    years = {d.year for d in Holiday.objects.dates("date", "year")}
    years |= {d.year for d in MakeupWorkday.objects.dates("date", "year")}
    return sorted(years)


def calendar_next_year_missing(today: dt.date) -> int | None:
    """From December 1: next year when it has no holidays loaded, else None."""
    if today.month != 12:
        return None
    year = today.year + 1
    if Holiday.objects.filter(date__year=year).exists():
        return None
    return year


def calendar_today() -> dt.date:
    """Today on the calendar's clock (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(CALENDAR_TZ)).date()


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    weeks: list[list[dict[str, Any] | None]]


def year_view(year: int) -> list[MonthView]:
    """Twelve month grids (weeks from Monday) with each day's kind and name."""
    marks = {d.date: d for d in stored_days([year])}
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[dict[str, Any] | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                mark = marks.get(day)
                kind = mark.kind if mark else ("weekend" if day.weekday() >= 5 else "")
                row.append(
                    {"date": day, "kind": kind, "name": mark.name if mark else ""}
                )
            weeks.append(row)
        months.append(MonthView(year, month, weeks))
    return months


# ------------------------------------------------------------------ the sources


def package_years() -> tuple[int, int]:
    import chinese_calendar

    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def package_days(year: int) -> list[CalendarDay]:
    """The year's holidays and make-up workdays as the package has them, or an
    error saying plainly that the package does not have the year."""
    import chinese_calendar

    first, last = package_years()
    if not first <= year <= last:
        raise ApplicationError(
            _(
                "The %(package)s package installed has no holidays for %(year)s: it "
                "covers %(first)s to %(last)s. Import %(year)s from a CSV file "
                "(date, kind, name) with the State Council's notice instead."
            )
            % {"package": PACKAGE, "year": year, "first": first, "last": last},
            code="year_not_in_package",
            details={"year": year, "first": first, "last": last},
        )
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}

    def label(name: str) -> str:
        return f"{chinese.get(name, name)} {name}".strip()

    days = [
        CalendarDay(day, DayKind.HOLIDAY, label(name))
        for day, name in chinese_calendar.holidays.items()
        if day.year == year
    ] + [
        CalendarDay(day, DayKind.WORKDAY, f"{chinese.get(name, name)}调休 {name}")
        for day, name in chinese_calendar.workdays.items()
        if day.year == year
    ]
    return sorted(days, key=lambda d: d.date)


KIND_ALIASES = {
    "holiday": DayKind.HOLIDAY,
    "假日": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "调休": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
}


def parse_calendar_csv(data: bytes | str) -> list[CalendarDay]:
    """Read ``date,kind,name`` rows (a header row is optional); kinds are
    ``holiday`` or ``workday``. Every problem is reported with its line; one problem
    refuses the whole file (``CalendarCsvError``)."""
    if isinstance(data, bytes) and len(data) > MAX_CSV_BYTES:
        raise CalendarCsvError(
            [LineProblem(0, str(_("The file is larger than 256 KB.")))]
        )
    try:
        text = decode_csv_bytes(data)
    except UnicodeDecodeError:
        raise CalendarCsvError(
            [LineProblem(0, str(_("Save the file as UTF-8 text (CSV).")))]
        ) from None
    problems: list[LineProblem] = []
    days: list[CalendarDay] = []
    seen: dict[dt.date, tuple[int, str]] = {}
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_CSV_ROWS:
        raise CalendarCsvError(
            [
                LineProblem(
                    0,
                    str(
                        _("The file has more than %(max)s lines.")
                        % {"max": MAX_CSV_ROWS}
                    ),
                )
            ]
        )
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "date":
            continue
        if len(cells) < 2 or len(cells) > 3:
            problems.append(
                LineProblem(
                    number,
                    str(
                        _("Expected date, kind, name: found %(n)s column(s).")
                        % {"n": len(cells)}
                    ),
                )
            )
            continue
        raw_date, raw_kind = cells[0], cells[1]
        name = cells[2] if len(cells) == 3 else ""
        try:
            day = dt.date.fromisoformat(raw_date)
            if len(raw_date) != 10:
                raise ValueError(raw_date)
        except ValueError:
            problems.append(
                LineProblem(
                    number,
                    str(
                        _("%(value)s is not a date: write it as YYYY-MM-DD.")
                        % {"value": raw_date or "—"}
                    ),
                )
            )
            continue
        kind = KIND_ALIASES.get(raw_kind.lower())
        if kind is None:
            problems.append(
                LineProblem(
                    number,
                    str(
                        _("Unknown kind %(value)s: write holiday or workday.")
                        % {"value": raw_kind or "—"}
                    ),
                )
            )
            continue
        if len(name) > NAME_MAX:
            problems.append(
                LineProblem(
                    number,
                    str(
                        _("The name is longer than %(max)s characters.")
                        % {"max": NAME_MAX}
                    ),
                )
            )
            continue
        if kind == DayKind.WORKDAY and day.weekday() < 5:
            problems.append(
                LineProblem(
                    number,
                    str(
                        _(
                            "%(date)s is a weekday: a make-up workday is a Saturday "
                            "or Sunday worked."
                        )
                        % {"date": day.isoformat()}
                    ),
                )
            )
            continue
        if day in seen:
            line, first_kind = seen[day]
            message = (
                _("%(date)s is listed twice (line %(line)s).")
                if first_kind == kind
                else _(
                    "%(date)s cannot be both a holiday and a make-up workday "
                    "(line %(line)s)."
                )
            )
            problems.append(
                LineProblem(
                    number, str(message % {"date": day.isoformat(), "line": line})
                )
            )
            continue
        seen[day] = (number, kind)
        days.append(CalendarDay(day, kind, name or str(DayKind(kind).label)))
    if problems:
        raise CalendarCsvError(problems)
    if not days:
        raise CalendarCsvError(
            [LineProblem(0, str(_("The file has no days: nothing to import.")))]
        )
    return sorted(days, key=lambda d: d.date)


# ------------------------------------------------------------------------ writing


def calendar_plan(*, days: list[CalendarDay], source: str) -> CalendarPlan:
    """The preview: which stored days of the covered years go, which come."""
    years = sorted({d.date.year for d in days})
    current = {(d.date, d.kind): d for d in stored_days(years)}
    incoming = {(d.date, d.kind): d for d in days}
    plan = CalendarPlan(source=source, days=days, years=years)
    for key, day in incoming.items():
        old = current.get(key)
        if old is None or old.name != day.name:
            plan.added.append(day)
        else:
            plan.unchanged += 1
    plan.removed = [
        d for key, d in current.items() if key not in incoming or incoming[key] != d
    ]
    plan.added.sort(key=lambda d: d.date)
    plan.removed.sort(key=lambda d: d.date)
    return plan


def reschedule_open_tasks(cal: BusinessCalendar) -> int:
    """Recount open tasks' deadlines on ``cal`` (each with its own target and
    pauses); returns how many moved. Runs in the caller's transaction."""
    moved = 0
    tasks = (
        ReviewTask.objects.select_for_update(of=("self",))
        .filter(state__in=OPEN_STATES)
        .select_related("sla_policy")
        .prefetch_related("pauses")
        .order_by("pk")
    )
    for task in tasks:
        before = (task.due_at, task.warn_at)
        fields = schedule(task, cal=cal, pauses=pause_intervals(task))
        if (task.due_at, task.warn_at) != before:
            task.save(update_fields=fields)
            moved += 1
    return moved


@dataclass(frozen=True)
class CalendarImportResult:
    years: list[int]
    holidays: int
    workdays: int
    removed: int
    tasks_moved: int


def calendar_import(
    *, actor: Any, days: list[CalendarDay], source: str
) -> CalendarImportResult:
    """Replace the holidays and make-up workdays of the years ``days`` cover."""
    require_admin(actor)
    if not days:
        raise ApplicationError(_("There are no days to import."), code="no_days")
    dates = [d.date for d in days]
    if len(set(dates)) != len(dates):
        raise ApplicationError(
            _("A date appears more than once."), code="duplicate_dates"
        )
    years = sorted({d.year for d in dates})
    with transaction.atomic(durable=True):
        removed_holidays, _h = Holiday.objects.filter(date__year__in=years).delete()
        removed_workdays, _w = MakeupWorkday.objects.filter(
            date__year__in=years
        ).delete()
        Holiday.objects.bulk_create(
            Holiday(date=d.date, name=d.name[:NAME_MAX])
            for d in days
            if d.kind == DayKind.HOLIDAY
        )
        MakeupWorkday.objects.bulk_create(
            MakeupWorkday(date=d.date, name=d.name[:NAME_MAX])
            for d in days
            if d.kind == DayKind.WORKDAY
        )
        moved = reschedule_open_tasks(calendar_from_rows())
        result = CalendarImportResult(
            years=years,
            holidays=sum(1 for d in days if d.kind == DayKind.HOLIDAY),
            workdays=sum(1 for d in days if d.kind == DayKind.WORKDAY),
            removed=removed_holidays + removed_workdays,
            tasks_moved=moved,
        )
        audit_record(
            actor=actor,
            action="calendar.imported",
            data={
                "source": source,
                "years": years,
                "holidays": result.holidays,
                "workdays": result.workdays,
                "removed": result.removed,
                "tasks_moved": moved,
                "days": [[d.date, d.kind, d.name] for d in days],
            },
        )
        calendar_changed()
        transaction.on_commit(calendar_changed)
    return result


def working_periods_set(
    *, actor: Any, periods: list[tuple[dt.time, dt.time]]
) -> list[WorkingPeriod]:
    """Replace the working day's periods (local time), refusing empty, reversed or
    overlapping periods."""
    require_admin(actor)
    ordered = sorted(periods)
    if not ordered:
        raise ApplicationError(
            _("A working day needs at least one period."),
            code="no_working_periods",
            details={"periods": [str(_("A working day needs at least one period."))]},
        )
    for start, end in ordered:
        if end <= start:
            message = _("Each period must end after it starts (%(start)s-%(end)s).") % {
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
            }
            raise ApplicationError(
                message, code="period_reversed", details={"periods": [str(message)]}
            )
    for (_s1, end1), (start2, _e2) in itertools.pairwise(ordered):
        if start2 < end1:
            message = _("The periods overlap: each must start after the last ends.")
            raise ApplicationError(
                message, code="periods_overlap", details={"periods": [str(message)]}
            )
    with transaction.atomic(durable=True):
        before = [
            f"{p.start:%H:%M}-{p.end:%H:%M}"
            for p in WorkingPeriod.objects.select_for_update().order_by("start")
        ]
        after = [f"{s:%H:%M}-{e:%H:%M}" for s, e in ordered]
        if before == after:
            return list(WorkingPeriod.objects.order_by("start"))
        WorkingPeriod.objects.all().delete()
        rows = WorkingPeriod.objects.bulk_create(
            WorkingPeriod(start=s, end=e) for s, e in ordered
        )
        moved = reschedule_open_tasks(calendar_from_rows())
        audit_record(
            actor=actor,
            action="calendar.working_periods_changed",
            data={"before": before, "after": after, "tasks_moved": moved},
        )
        calendar_changed()
        transaction.on_commit(calendar_changed)
    return rows


def calendar_readiness_warning() -> str | None:
    """For ``/readyz``: a warning (never a failure) when next year is missing."""
    year = calendar_next_year_missing(calendar_today())
    if year is None:
        return None
    return (
        f"The business calendar of {year} is not loaded: deadlines that run into "
        f"{year} count its holidays as working days. Load it under "
        "Administration > Business calendar."
    )
