"""The administrators' audit log page: filters, keyset pages, one entry, the chain
verification in plain words; read-only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_checkpoint_write, audit_record
from tests.audit.tamper import rewrite_from, truncate_after
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _checkpoints(settings: Any, tmp_path: Any) -> None:
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit"


@pytest.fixture
def admin(db: Any) -> Any:
    return UserFactory(role=Role.ADMIN, organization=None, language="en")


@pytest.fixture
def admin_client(client: Any, admin: Any) -> Any:
    client.force_login(admin)
    return client


def record(actor: Any, action: str, obj: Any = None, **data: Any) -> AuditEntry:
    with transaction.atomic():
        return audit_record(actor=actor, action=action, obj=obj, data=data)


def seqs(response: Any) -> list[int]:
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', response.content.decode())]


def test_the_roles_without_the_admin_capability_are_refused(client: Any) -> None:
    for role in (Role.SUBMITTER, Role.REVIEWER, Role.SUPERVISOR):
        user = UserFactory(role=role, organization=OrganizationFactory())
        client.force_login(user)
        assert client.get(reverse("audit:log")).status_code == 403
        assert client.post(reverse("audit:verify")).status_code == 403
    client.logout()
    response = client.get(reverse("audit:log"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_is_read_only(admin_client: Any) -> None:
    assert admin_client.post(reverse("audit:log")).status_code == 405
    assert admin_client.post(reverse("audit:entry")).status_code == 405
    assert admin_client.get(reverse("audit:verify")).status_code == 405


def test_filters_by_actor_action_object_and_date(
    admin_client: Any, admin: Any, time_machine: Any
) -> None:
    other = UserFactory(role=Role.ADMIN, organization=None, username="olga")
    org = OrganizationFactory()
    time_machine.move_to(dt.datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI), tick=False)
    a = record(admin, "user.created", other, note="a")
    time_machine.move_to(dt.datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI), tick=False)
    b = record(other, "user.role_changed", admin, note="b")
    c = record(other, "organization.updated", org, note="c")
    time_machine.move_to(dt.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI), tick=False)
    d = record(admin, "rule.restored", None, note="d")
    mine = {a.seq, b.seq, c.seq, d.seq}

    def shown(**query: Any) -> set[int]:
        response = admin_client.get(reverse("audit:log"), query)
        assert response.status_code == 200
        return set(seqs(response)) & mine

    assert shown() == mine
    assert shown(actor="olga") == {b.seq, c.seq}
    assert shown(actor=str(admin.pk)) == {a.seq, d.seq}
    assert shown(action="user.role_changed") == {b.seq}
    assert shown(action="user.") == {a.seq, b.seq}  # the whole family
    assert shown(object_type="accounts.organization") == {c.seq}
    assert shown(object_type="accounts.user", object_id=str(admin.pk)) == {b.seq}
    # Days are the portal's local days (Asia/Shanghai), the end day included.
    assert shown(date_from="2026-03-02", date_to="2026-03-02") == {b.seq, c.seq}
    assert shown(date_to="2026-03-01") == {a.seq}
    assert shown(date_from="2026-03-03") == {d.seq}
    assert shown(actor="olga", action="organization.") == {c.seq}


def test_a_wrong_filter_says_so_and_lists_nothing(
    admin_client: Any, admin: Any
) -> None:
    record(admin, "user.created", admin)
    response = admin_client.get(
        reverse("audit:log"), {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The end date is before the start date." in body
    assert seqs(response) == []
    response = admin_client.get(reverse("audit:log"), {"date_from": "yesterday"})
    assert "Enter a valid date." in response.content.decode()
    assert seqs(response) == []


def test_keyset_pages_cover_every_entry_once_and_stay_put(
    admin_client: Any, admin: Any
) -> None:
    for number in range(120):
        record(admin, "test.bulk", admin, n=number)
    wanted = set(
        AuditEntry.objects.filter(action="test.bulk").values_list("seq", flat=True)
    )
    query = {"action": "test.bulk"}
    first = admin_client.get(reverse("audit:log"), query)
    page1 = seqs(first)
    assert len(page1) == 50 and page1 == sorted(page1, reverse=True)
    assert 'rel="prev"' not in first.content.decode()
    older = re.search(r'rel="next" href="\?([^"]+)"', first.content.decode())
    assert older is not None
    next_query = older.group(1).replace("&amp;", "&")
    # New entries arriving between pages do not shift the next page.
    for number in range(7):
        record(admin, "test.bulk", admin, n=1000 + number)
    second = admin_client.get(reverse("audit:log") + "?" + next_query)
    page2 = seqs(second)
    assert page2 == sorted(page2, reverse=True) and max(page2) < min(page1)
    assert len(page2) == 50
    third_link = re.search(r'rel="next" href="\?([^"]+)"', second.content.decode())
    assert third_link is not None
    third = admin_client.get(
        reverse("audit:log") + "?" + third_link.group(1).replace("&amp;", "&")
    )
    page3 = seqs(third)
    assert 'rel="next"' not in third.content.decode()
    assert set(page1) | set(page2) | set(page3) == wanted
    assert len(page1) + len(page2) + len(page3) == len(wanted)
    # Back from page 2 ("newer") gives page 1 again, unchanged by the new entries.
    newer = re.search(r'rel="prev" href="\?([^"]+)"', second.content.decode())
    assert newer is not None
    back = admin_client.get(
        reverse("audit:log") + "?" + newer.group(1).replace("&amp;", "&")
    )
    assert seqs(back) == page1


def test_an_entry_shows_its_data_and_hashes(admin_client: Any, admin: Any) -> None:
    record(admin, "user.language", admin, language="en")
    entry = record(
        admin, "user.created", admin, email="何@example.com", roles=["admin"]
    )
    response = admin_client.get(reverse("audit:entry"), {"seq": entry.seq})
    body = response.content.decode()
    assert response.status_code == 200
    assert entry.hash in body and entry.prev_hash in body
    assert "何@example.com" in body and "user.created" in body
    assert f"object_id={admin.pk}" in body  # the object's history is one click away
    # The last entry has no next one to link to; an earlier one does.
    assert f"?seq={entry.seq + 1}" not in body
    earlier = admin_client.get(reverse("audit:entry"), {"seq": entry.seq - 1})
    assert f"?seq={entry.seq}" in earlier.content.decode()
    assert admin_client.get(reverse("audit:entry"), {"seq": 999_999}).status_code == 404
    assert admin_client.get(reverse("audit:entry")).status_code == 404


def verdict(response: Any) -> str:
    match = re.search(r'id="verdict"(.*?)</div>', response.content.decode(), re.S)
    assert match is not None
    return match.group(0)


def test_verification_of_an_intact_chain(admin_client: Any, admin: Any) -> None:
    for number in range(3):
        record(admin, "test.entry", admin, n=number)
    response = admin_client.post(reverse("audit:verify"))
    text = verdict(response)
    assert response.status_code == 200
    assert 'data-ok="true"' in text
    assert "The audit log is intact." in text
    assert f"{AuditEntry.objects.count()} entries checked" in text
    assert "No signed checkpoint was found" in text
    audit_checkpoint_write()
    text = verdict(admin_client.post(reverse("audit:verify")))
    assert "1 signed checkpoints agree with the log." in text


def test_verification_says_where_a_changed_entry_breaks_the_chain(
    admin_client: Any, admin: Any
) -> None:
    entries = [record(admin, "test.entry", admin, n=n) for n in range(4)]
    rewrite_from(entries[1].seq, data={"n": "forged"})
    text = verdict(admin_client.post(reverse("audit:verify")))
    assert 'data-ok="false"' in text
    assert f'data-seq="{entries[1].seq}"' in text and 'data-problem="content"' in text
    assert f"The audit log is broken at entry {entries[1].seq}." in text
    assert "was changed after it was written" in text


def test_verification_finds_a_cut_off_tail_against_the_checkpoint(
    admin_client: Any, admin: Any
) -> None:
    entries = [record(admin, "test.entry", admin, n=n) for n in range(4)]
    audit_checkpoint_write()
    truncate_after(entries[1].seq)
    response = admin_client.post(reverse("audit:verify"))
    text = verdict(response)
    assert 'data-problem="truncated"' in text
    assert "the log was cut short" in text
    assert f"from entry {entries[1].seq + 1} on" in text


def test_the_page_speaks_chinese_by_default(client: Any, admin: Any) -> None:
    admin.language = "zh-hans"
    admin.save(update_fields=["language"])
    client.force_login(admin)
    record(admin, "test.entry", admin)
    assert "审计日志" in client.get(reverse("audit:log")).content.decode()
    text = verdict(client.post(reverse("audit:verify")))
    assert "审计日志完好" in text
