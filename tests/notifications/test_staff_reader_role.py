"""Who reads notifications as staff is read from the role (no permission query per
recipient inside a decision); it must agree with the permissions the role grants."""

from __future__ import annotations

import pytest

from accounts.models import Organization, User
from accounts.roles import Perm, Role, user_can
from accounts.services import user_sync_groups
from invoiceportal.invoices.notify import is_staff_reader
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("superuser", [False, True])
def test_the_role_and_the_permissions_agree(role, superuser):
    org = Organization.objects.create(name="角色测试企业", tax_id=make_uscc(8801))
    user = User.objects.create_user(
        username=f"reader-{role}-{superuser}",
        password="x",
        role=role,
        organization=org,
        is_superuser=superuser,
    )
    user_sync_groups(user)
    user = User.objects.get(pk=user.pk)  # no permission cache
    works_on_tasks = not user_can(user, Perm.SUBMIT) or superuser
    assert is_staff_reader(user) is works_on_tasks
    if not superuser:
        assert is_staff_reader(user) is (role != Role.SUBMITTER)
