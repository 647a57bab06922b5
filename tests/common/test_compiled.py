"""CompiledQuery: a queryset compiled once answers like the queryset itself."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Count

from accounts.models import Organization, User
from invoiceportal.common.compiled import CompiledQuery
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs():
    made = [
        Organization.objects.create(name=f"编译查询测试{i}", tax_id=make_uscc(7700 + i))
        for i in range(3)
    ]
    for i, org in enumerate(made):
        for j in range(i + 1):
            User.objects.create_user(
                username=f"compiled-{i}-{j}", password="x", organization=org
            )
    return made


def test_objects_match_the_queryset_for_every_value(orgs):
    members = CompiledQuery(
        lambda organization_id: User.objects.filter(
            organization_id=organization_id, is_active=True
        ).order_by("username"),
        "organization_id",
    )
    for org in orgs:
        got = [u.username for u in members.objects(organization_id=org.pk)]
        want = list(
            User.objects.filter(organization=org, is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        )
        assert got == want
        assert len(got) == orgs.index(org) + 1
    assert list(members.objects(organization_id=orgs[-1].pk + 1000)) == []


def test_rows_with_two_values_and_an_aggregate(orgs):
    counts = CompiledQuery(
        lambda organization_id, user_id: (
            User.objects.filter(organization_id=organization_id)
            .exclude(pk=user_id)
            .values("organization_id")
            .annotate(n=Count("pk"))
            .values_list("n", flat=True)
        ),
        "organization_id",
        "user_id",
    )
    big = orgs[2]
    someone = User.objects.filter(organization=big).first()
    assert counts.rows(organization_id=big.pk, user_id=someone.pk) == [(2,)]
    assert counts.rows(organization_id=big.pk, user_id=0) == [(3,)]


def test_locking_queries_run_inside_a_transaction(orgs):
    lock = CompiledQuery(
        lambda user_id: (
            User.objects.select_for_update()
            .filter(pk=user_id)
            .values_list("username", flat=True)
        ),
        "user_id",
    )
    user = User.objects.filter(organization=orgs[0]).get()
    with transaction.atomic():
        assert lock.rows(user_id=user.pk) == [(user.username,)]


def test_a_value_must_be_an_integer_and_named(orgs):
    members = CompiledQuery(
        lambda organization_id: User.objects.filter(organization_id=organization_id),
        "organization_id",
    )
    with pytest.raises(TypeError, match="must be an int"):
        members.rows(organization_id="1 OR 1=1")
    with pytest.raises(TypeError, match="takes"):
        members.rows(org=1)


def test_a_value_the_query_does_not_use_exactly_once_is_refused(orgs):
    unused = CompiledQuery(
        lambda organization_id: User.objects.filter(is_active=True), "organization_id"
    )
    with pytest.raises(ValueError, match="appears 0 times"):
        unused.rows(organization_id=orgs[0].pk)
    twice = CompiledQuery(
        lambda organization_id: User.objects.filter(
            organization_id=organization_id
        ).exclude(pk=organization_id),
        "organization_id",
    )
    with pytest.raises(ValueError, match="appears 2 times"):
        twice.rows(organization_id=orgs[0].pk)
