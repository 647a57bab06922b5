"""Issue 14: ``GET /api/v1/review-tasks/`` pages by cursor in the queue order, with
no ``COUNT(*)`` and a number of queries that does not grow with the rows; the
response keeps the keys of DESIGN.md section 7."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews.models import ReviewTask
from tests.conftest import api_as

pytestmark = pytest.mark.usefixtures("no_four_eyes")
BASE = "/api/v1/review-tasks/"


def make_tasks(make_task, time_machine, n: int) -> list[ReviewTask]:
    tasks = []
    start = dt.datetime.now(dt.UTC)
    for i in range(n):
        time_machine.move_to(start + dt.timedelta(minutes=i), tick=False)
        tasks.append(make_task(expedite_reason="加急" if i % 3 == 0 else ""))
    # Two tasks on the same due time: the order breaks the tie by priority, then id.
    ReviewTask.objects.filter(pk=tasks[1].pk).update(due_at=tasks[2].due_at)
    ReviewTask.objects.filter(pk=tasks[-1].pk).update(due_at=None)  # paused
    return tasks


def expected_order() -> list[int]:
    return list(ReviewTask.objects.open().in_claim_order().values_list("pk", flat=True))


def test_cursor_pages_walk_the_queue_forwards_and_back(
    make_task, reviewer, time_machine
) -> None:
    make_tasks(make_task, time_machine, 7)
    client = api_as(reviewer)
    seen, pages, url = [], [], BASE + "?page_size=3"
    while url:
        body = client.get(url).json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] is None  # no COUNT(*)
        pages.append(body)
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert seen == expected_order()
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None
    back = client.get(pages[2]["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[1]["results"]]
    first = client.get(back["previous"]).json()
    assert [r["id"] for r in first["results"]] == seen[:3]
    assert first["previous"] is None


def test_a_bad_cursor_or_page_size_is_a_clear_error(make_task, reviewer) -> None:
    make_task()
    client = api_as(reviewer)
    bad = client.get(BASE + "?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert bad.json()["details"]["cursor"] == ["此分页链接无效：请从第一页开始。"]
    assert client.get(BASE + "?page_size=x").status_code == 400
    assert client.get(BASE + "?page_size=0").status_code == 400


@pytest.mark.parametrize("rows", [2, 12])
def test_a_page_costs_the_same_queries_whatever_the_rows(
    make_task, reviewer, time_machine, django_assert_num_queries, rows
) -> None:
    for _ in range(rows):
        make_task()
    client = api_as(reviewer)
    client.get(BASE)  # the reviewer's permissions are cached from here on
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BASE + "?page_size=5")
    assert response.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    with django_assert_num_queries(1):
        client.get(response.json()["next"] or BASE)
