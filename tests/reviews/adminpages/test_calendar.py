"""The business calendar administered: CSV and package imports with their preview,
refusals by line, the New Year deadline, the December banner and /readyz warning."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import translation

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ApplicationError
from reviews.adminpages.calendar_admin import (
    CalendarCsvError,
    DayKind,
    calendar_import,
    calendar_next_year_missing,
    calendar_plan,
    package_days,
    parse_calendar_csv,
    working_periods_set,
)
from reviews.models import Holiday, MakeupWorkday
from reviews.queue.calendar import CALENDAR_CACHE_KEY, business_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,workday,春节调休
"""


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


# ----------------------------------------------------------------- CSV parsing


def test_a_good_csv_is_read_with_or_without_header_and_bom() -> None:
    days = parse_calendar_csv(CSV_2027.encode("utf-8-sig"))
    assert [(d.date, d.kind, d.name) for d in days] == [
        (dt.date(2027, 1, 1), DayKind.HOLIDAY, "元旦"),
        (dt.date(2027, 2, 6), DayKind.HOLIDAY, "春节"),
        (dt.date(2027, 2, 7), DayKind.WORKDAY, "春节调休"),
    ]
    headless = CSV_2027.split("\n", 1)[1]
    assert parse_calendar_csv(headless) == days


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_imported(
    admin_user,
) -> None:
    text = "\n".join(
        [
            "date,kind,name",
            "2027-01-01,holiday,元旦",  # 2: fine
            "2027-02-30,holiday,春节",  # 3: no such date
            "2027/02/06,holiday,春节",  # 4: not ISO
            "2027-02-08,vacation,春节",  # 5: unknown kind
            "2027-01-01,holiday,元旦",  # 6: duplicate of line 2
            "2027-02-07,workday,调休",  # 7: fine (a Sunday)
            "2027-02-07,holiday,春节",  # 8: both a workday and a holiday
            "2027-02-09,workday,调休",  # 9: a Tuesday cannot be a make-up workday
            "2027-02-10",  # 10: one column
        ]
    )
    before = (Holiday.objects.count(), MakeupWorkday.objects.count())
    with translation.override("en"), pytest.raises(CalendarCsvError) as caught:
        parse_calendar_csv(text.encode())
    lines = [p.line for p in caught.value.problems]
    assert lines == [3, 4, 5, 6, 8, 9, 10]
    messages = {p.line: p.message for p in caught.value.problems}
    assert "2027-02-30" in messages[3]
    assert "vacation" in messages[5]
    assert "line 2" in messages[6]
    assert "line 7" in messages[8]
    assert caught.value.code == "invalid_calendar_csv"
    assert [d["line"] for d in caught.value.details["lines"]] == lines
    assert (Holiday.objects.count(), MakeupWorkday.objects.count()) == before
    assert not AuditEntry.objects.filter(action="calendar.imported").exists()


def test_an_empty_file_or_one_not_in_utf8_is_refused() -> None:
    with pytest.raises(CalendarCsvError):
        parse_calendar_csv(b"date,kind,name\n")
    with pytest.raises(CalendarCsvError):
        parse_calendar_csv(b"\xff\xfe\x00\x01\xff")


# --------------------------------------------------------------- the package


def test_the_package_has_2026_with_its_make_up_workdays() -> None:
    days = {d.date: d for d in package_days(2026)}
    assert days[dt.date(2026, 1, 1)].kind == DayKind.HOLIDAY
    assert days[dt.date(2026, 1, 1)].name == "元旦 New Year's Day"
    assert days[dt.date(2026, 1, 4)].kind == DayKind.WORKDAY  # a Sunday worked


def test_a_year_the_package_lacks_is_refused_plainly() -> None:
    with translation.override("en"), pytest.raises(ApplicationError) as caught:
        package_days(2027)
    assert caught.value.code == "year_not_in_package"
    assert caught.value.details == {"year": 2027, "first": 2004, "last": 2026}
    assert "2027" in str(caught.value.message)
    assert "CSV" in str(caught.value.message)


# ------------------------------------------------------------------ importing


def test_the_preview_stores_nothing_and_says_what_changes(admin_user) -> None:
    Holiday.objects.create(date=dt.date(2027, 5, 1), name="旧数据")
    plan = calendar_plan(days=parse_calendar_csv(CSV_2027), source="csv")
    assert plan.years == [2027]
    assert [d.date for d in plan.added] == [
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 6),
        dt.date(2027, 2, 7),
    ]
    assert [d.date for d in plan.removed] == [dt.date(2027, 5, 1)]
    assert not Holiday.objects.filter(date__year=2027, name="元旦").exists()


def test_an_import_replaces_the_year_audits_and_clears_the_cached_calendar(
    admin_user,
) -> None:
    Holiday.objects.create(date=dt.date(2027, 5, 1), name="旧数据")
    assert dt.date(2027, 1, 1) not in business_calendar().holidays  # cached now
    assert cache.get(CALENDAR_CACHE_KEY) is not None

    result = calendar_import(
        actor=admin_user, days=parse_calendar_csv(CSV_2027), source="csv"
    )

    assert (result.years, result.holidays, result.workdays) == ([2027], 2, 1)
    assert result.removed == 1
    assert sorted(
        Holiday.objects.filter(date__year=2027).values_list("name", flat=True)
    ) == [
        "元旦",
        "春节",
    ]
    assert Holiday.objects.filter(date__year=2026).count() > 10  # other years kept
    assert cache.get(CALENDAR_CACHE_KEY) is None
    assert dt.date(2027, 1, 1) in business_calendar().holidays
    entry = AuditEntry.objects.get(action="calendar.imported")
    assert entry.actor_id == admin_user.pk
    assert entry.data["years"] == [2027]
    assert entry.data["source"] == "csv"


def test_a_deadline_crossing_new_year_moves_once_2027_is_imported(
    make_task, admin_user, time_machine
) -> None:
    # Thursday 2026-12-31 10:00, normal priority (16 business hours of 8 a day):
    # 7 h on Thursday; without 2027 loaded Friday 1 January counts 8 h, so the task
    # is due Monday 4 January 10:00.
    time_machine.move_to(local(2026, 12, 31, 10), tick=False)
    task = make_task()
    assert task.due_at == local(2027, 1, 4, 10)

    calendar_import(actor=admin_user, days=parse_calendar_csv(CSV_2027), source="csv")

    # 2027-01-01 is a holiday now: 7 h Thursday, 8 h Monday, 1 h Tuesday.
    task.refresh_from_db()
    assert task.due_at == local(2027, 1, 5, 10)
    assert make_task().due_at == local(2027, 1, 5, 10)


def test_working_periods_are_replaced_and_bad_ones_refused(
    make_task, admin_user, time_machine
) -> None:
    time_machine.move_to(local(2026, 3, 2, 10), tick=False)
    task = make_task()
    assert task.due_at == local(2026, 3, 4, 10)
    with pytest.raises(ApplicationError) as caught:
        working_periods_set(
            actor=admin_user,
            periods=[(dt.time(9), dt.time(12)), (dt.time(11), dt.time(18))],
        )
    assert caught.value.code == "periods_overlap"

    working_periods_set(actor=admin_user, periods=[(dt.time(9), dt.time(15))])

    task.refresh_from_db()  # 6 h days now: 5 h Monday, 6 h Tuesday, 5 h Wednesday
    assert task.due_at == local(2026, 3, 4, 14)
    assert AuditEntry.objects.filter(action="calendar.working_periods_changed").exists()


# ------------------------------------------------------- banner and readiness


def test_next_year_is_missing_from_december_until_it_is_loaded(admin_user) -> None:
    assert calendar_next_year_missing(dt.date(2026, 11, 30)) is None
    assert calendar_next_year_missing(dt.date(2026, 12, 1)) == 2027
    calendar_import(actor=admin_user, days=parse_calendar_csv(CSV_2027), source="csv")
    assert calendar_next_year_missing(dt.date(2026, 12, 1)) is None


def test_readyz_warns_without_failing_when_next_year_is_missing(
    client, admin_user, time_machine
) -> None:
    time_machine.move_to(local(2026, 12, 1, 9), tick=False)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert "2027" in body["warnings"]["business_calendar"]

    calendar_import(actor=admin_user, days=parse_calendar_csv(CSV_2027), source="csv")
    assert client.get("/readyz").json()["warnings"] == {}
