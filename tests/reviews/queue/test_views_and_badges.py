"""Issue 11, "Queue and board": saved views (each lists exactly its tasks, combines
with the other filters, counted in one query), badges that say overdue / at risk /
paused / second review in words, filter controls that show every option, and the
fragments the queue and the board refresh themselves from."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews.models import ReviewTask, SecondReviewRule, TaskStage, TaskState
from reviews.queue.services import review_task_claim, review_task_decide

from .conftest import at

pytestmark = pytest.mark.usefixtures("no_four_eyes")

QUEUE = "/reviews/queue/"
QUEUE_LIVE = "/reviews/queue/live/"
BOARD = "/reviews/board/"
BOARD_LIVE = "/reviews/board/live/"
NOW = at(4, 11)  # Wednesday 11:00


def shown(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr data-task="(\d+)"', html)}


@pytest.fixture
def world(
    make_task, reviewer, second_reviewer, settings: Any, time_machine: Any
) -> dict[str, ReviewTask]:
    """One task per saved view, each in exactly one of them (besides "All open"),
    made through the services on a moving clock."""
    settings.REVIEW_MAX_OPEN_CLAIMS = 5
    old = make_task()  # Monday 10:00: due Wednesday 10:00
    time_machine.move_to(at(2, 14), tick=False)
    risky = make_task()  # due Wednesday 14:00, warned Tuesday evening
    time_machine.move_to(NOW, tick=False)
    plain = make_task()
    mine = make_task()
    others = make_task()
    waiting = make_task()
    review_task_claim(user=reviewer, task_id=mine.pk)
    review_task_claim(user=second_reviewer, task_id=others.pk)
    review_task_claim(user=reviewer, task_id=waiting.pk)
    review_task_decide(
        user=reviewer, task_id=waiting.pk, decision="request_info", comment="合同？"
    )
    SecondReviewRule.objects.filter(code="amount_over").update(
        enabled=True, amount_threshold=Decimal("50000.00")
    )
    big = make_task(total_amount=Decimal("88000.00"))
    review_task_claim(user=second_reviewer, task_id=big.pk)
    review_task_decide(user=second_reviewer, task_id=big.pk, decision="approve")
    second = ReviewTask.objects.get(invoice=big.invoice, stage=TaskStage.SECOND)
    tasks = {
        "old": old,
        "risky": risky,
        "plain": plain,
        "mine": mine,
        "others": others,
        "waiting": waiting,
        "second": second,
    }
    for task in tasks.values():
        task.refresh_from_db()
    # The clock says what each one is.
    assert old.due_at <= NOW
    assert risky.warn_at <= NOW < risky.due_at
    assert plain.warn_at > NOW and second.warn_at > NOW
    assert waiting.state == TaskState.WAITING and waiting.due_at is None
    assert second.state == TaskState.QUEUED
    return tasks


def test_each_saved_view_lists_exactly_its_tasks(client, world, reviewer) -> None:
    client.force_login(reviewer)
    pk = {name: task.pk for name, task in world.items()}
    expected = {
        "": set(pk.values()),
        "mine": {pk["mine"]},
        "breaching": {pk["old"]},
        "at_risk": {pk["risky"]},
        "waiting": {pk["waiting"]},
        "second": {pk["second"]},
    }
    for view, tasks in expected.items():
        response = client.get(QUEUE, {"view": view} if view else {})
        assert response.status_code == 200
        html = response.content.decode()
        assert shown(html) == tasks, view
        code = view or "open"
        # The current tab is marked for assistive technology, and only that one.
        tabs = _section(html, 'id="queue-views"', "</nav>")
        assert f'data-view="{code}" aria-current="page"' in tabs
        assert tabs.count('aria-current="page"') == 1
    # Counts of every view in the tabs.
    html = client.get(QUEUE).content.decode()
    counts = dict(re.findall(r'data-view-count="(\w+)">(\d+)<', html))
    assert counts == {
        "open": "7",
        "mine": "1",
        "breaching": "1",
        "at_risk": "1",
        "waiting": "1",
        "second": "1",
    }


def test_saved_views_combine_with_the_other_filters(client, world, reviewer) -> None:
    client.force_login(reviewer)
    pk = {name: task.pk for name, task in world.items()}
    assert shown(client.get(QUEUE + "?view=mine&state=claimed").content.decode()) == {
        pk["mine"]
    }
    assert shown(client.get(QUEUE + "?view=mine&state=queued").content.decode()) == (
        set()
    )
    assert shown(client.get(QUEUE + "?view=second&stage=first").content.decode()) == (
        set()
    )
    html = client.get(QUEUE + "?view=breaching&state=queued").content.decode()
    assert shown(html) == {pk["old"]}
    # The tabs keep the other filters, drop the page number, and their counts are
    # those of the other filters.
    html = client.get(QUEUE + "?state=claimed&page=1").content.decode()
    assert 'href="/reviews/queue/?state=claimed&amp;view=mine"' in html
    counts = dict(re.findall(r'data-view-count="(\w+)">(\d+)<', html))
    assert counts["open"] == "2" and counts["mine"] == "1"
    assert counts["waiting"] == "0"
    # The filter form keeps the view when it is submitted.
    html = client.get(QUEUE + "?view=waiting").content.decode()
    assert '<input type="hidden" name="view" value="waiting">' in html


def test_an_unknown_view_is_all_open_and_is_not_reflected(
    client, world, reviewer
) -> None:
    client.force_login(reviewer)
    for hostile in ("bogus", "<script>alert(1)</script>", "mine' OR 1=1", "x" * 5000):
        response = client.get(QUEUE, {"view": hostile})
        assert response.status_code == 200
        html = response.content.decode()
        assert shown(html) == {t.pk for t in world.values()}
        assert 'data-view="open" aria-current="page"' in html
        assert "<script>alert(1)</script>" not in html
        assert 'name="view" value=' not in html


def test_counts_of_the_saved_views_cost_one_query(
    client, world, reviewer, make_task
) -> None:
    client.force_login(reviewer)
    client.get(QUEUE)  # warm the calendar cache

    def aggregates(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return sum(1 for q in ctx.captured_queries if "COUNT(" in q["sql"].upper())

    # One aggregate for the counts and the tabs, one for the paginator.
    assert aggregates(QUEUE) == 2
    assert aggregates(QUEUE + "?view=mine&priority=normal") == 2


def test_rows_say_overdue_at_risk_paused_and_second_review_in_words(
    client, world, supervisor, reviewer
) -> None:
    # Claimed, the second review is on the board too (in "who holds what").
    review_task_claim(user=reviewer, task_id=world["second"].pk)
    client.force_login(supervisor)
    for url in (QUEUE, BOARD):
        html = client.get(url).content.decode()
        row = {
            name: _row(html, task.pk) for name, task in world.items() if name != "plain"
        }
        # Overdue by one hour: the wording of the overdue helper, and a colour.
        assert (
            'class="badge text-bg-danger sla-overdue" data-badge="overdue"'
            in (row["old"])
        )
        assert "已超期 1 小时 00 分" in row["old"], url
        assert 'data-badge="at-risk"' in row["risky"] and "即将超时" in row["risky"]
        assert 'data-badge="paused"' in row["waiting"]
        assert "已暂停" in row["waiting"]
        assert 'data-badge="second"' in row["second"]
        assert "复核" in row["second"]
        for name in ("risky", "waiting", "second"):
            assert 'data-badge="overdue"' not in row[name], (url, name)
        assert 'data-badge="paused"' not in row["old"]


def _section(html: str, start_marker: str, end_marker: str) -> str:
    start = html.index(start_marker)
    return html[start : html.index(end_marker, start)]


def _row(html: str, pk: int) -> str:
    return _section(html, f'<tr data-task="{pk}"', "</tr>")


class _Selects(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.selects: list[dict[str, Any]] = []
        self._option: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "select":
            self.selects.append({"attrs": dict(attrs), "options": []})
        elif tag == "option":
            self._option = []

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None:
            self.selects[-1]["options"].append("".join(self._option).strip())
            self._option = None


def test_filter_controls_show_every_option_with_an_any_label(
    client, make_task, reviewer
) -> None:
    make_task()
    client.force_login(reviewer)
    html = client.get(QUEUE).content.decode()
    form = _section(html, 'id="queue-filters"', "</form>")
    assert "---------" not in form
    assert not re.search(r"<select[^>]*\b(multiple|size=)", form)  # no list boxes
    parser = _Selects()
    parser.feed(form)
    names = {s["attrs"]["name"]: s["options"] for s in parser.selects}
    assert set(names) == {"stage", "kind", "organization", "breaching"}
    assert names["stage"][0] == "任意阶段"
    assert names["kind"][0] == "全部票种"
    assert names["organization"][0] == "任意单位"
    assert names["breaching"] == ["是否超时均可", "仅已超时", "未超时"]
    for options in names.values():
        assert all(options), options  # no blank option text
    # State and priority are check boxes, every choice visible.
    assert len(re.findall(r'type="checkbox" name="state"', form)) == 3
    assert len(re.findall(r'type="checkbox" name="priority"', form)) == 3
    assert "<legend" in form


def test_filters_keep_their_values_and_refuse_nonsense_quietly(
    client, make_task, reviewer, time_machine
) -> None:
    task = make_task()
    client.force_login(reviewer)
    html = client.get(QUEUE + "?state=queued&priority=normal&breaching=false").content
    html = html.decode()
    assert re.search(r'name="state" value="queued"[^>]*checked', html)
    assert re.search(r'<option value="false" selected>', html)
    assert shown(html) == {task.pk}
    time_machine.move_to(at(4, 11), tick=False)
    client.force_login(reviewer)  # a staff session lasts a working day
    assert shown(client.get(QUEUE + "?breaching=true").content.decode()) == {task.pk}
    for nonsense in ("?state=done", "?state=bogus", "?breaching=maybe", "?stage=x"):
        response = client.get(QUEUE + nonsense)
        assert response.status_code == 200, nonsense


def test_queue_refresh_fragment_brings_a_newly_queued_task(
    client, make_task, reviewer, settings
) -> None:
    settings.QUEUE_REFRESH_SECONDS = 7
    first = make_task()
    client.force_login(reviewer)
    page = client.get(QUEUE + "?view=&priority=normal").content.decode()
    assert (
        'hx-get="/reviews/queue/live/?view=&amp;priority=normal" '
        'hx-trigger="every 7s"' in page
    )

    second = make_task()
    response = client.get(QUEUE_LIVE + "?view=&priority=normal", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment and '<nav class="navbar' not in fragment
    assert 'id="queue-filters"' not in fragment  # the reader's form is left alone
    assert shown(fragment) == {first.pk, second.pk}
    assert fragment.count('id="queue-table"') == 1
    assert 'hx-trigger="every 7s"' in fragment  # it keeps refreshing
    # The tabs and the counts are swapped out of band.
    assert re.search(r'<nav [^>]*id="queue-views"[^>]*hx-swap-oob="true"', fragment)
    assert 'data-count="queued">2<' in fragment
    # The same filters as the page.
    urgent = client.get(QUEUE_LIVE + "?priority=urgent").content.decode()
    assert shown(urgent) == set()


def test_refresh_fragments_keep_the_pages_access_rules(
    client, make_task, submitter, reviewer, supervisor
) -> None:
    make_task()
    assert client.get(QUEUE_LIVE).status_code == 302
    assert client.get(QUEUE_LIVE)["Location"].startswith("/accounts/login/")
    assert client.get(BOARD_LIVE).status_code == 302
    client.force_login(submitter)
    assert client.get(QUEUE_LIVE, HTTP_HX_REQUEST="true").status_code == 403
    assert client.get(BOARD_LIVE, HTTP_HX_REQUEST="true").status_code == 403
    client.force_login(reviewer)
    assert client.get(BOARD_LIVE).status_code == 403
    assert client.post(QUEUE_LIVE).status_code == 405
    client.force_login(supervisor)
    response = client.get(BOARD_LIVE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert client.post(BOARD_LIVE).status_code == 405


def test_board_has_column_headings_with_counts_and_refreshes_itself(
    client, world, supervisor, settings, make_task
) -> None:
    settings.QUEUE_REFRESH_SECONDS = 9
    client.force_login(supervisor)
    html = client.get(BOARD).content.decode()
    for column, count in (
        ("breached", 1),
        ("at-risk", 1),
        ("held", 2),
        ("waiting", 1),
    ):
        heading = re.search(
            rf'<h2[^>]*id="{column}-title">(.*?)</h2>', html, flags=re.S
        )
        assert heading, column
        assert f'data-column-count="{column}">{count}<' in heading.group(1)
        assert f'id="{column}" aria-labelledby="{column}-title"' in html
    assert html.count('<th scope="col">') >= 4 * 6
    assert 'hx-get="/reviews/board/live/" hx-trigger="every 9s"' in html
    assert shown(html) >= {world["waiting"].pk, world["mine"].pk}

    fragment = client.get(BOARD_LIVE, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="bulk-form"' not in fragment
    assert 'id="board-counts" hx-swap-oob="true"' in fragment
    assert 'data-column-count="breached">1<' in fragment
