"""factory_boy factories for the models the tests build."""

from __future__ import annotations

import random

import factory
from django.contrib.auth import get_user_model

from accounts.models import Organization
from accounts.roles import Role
from accounts.services import user_sync_groups
from invoiceportal.common.taxid import USCC_ALPHABET, uscc_check_char

PASSWORD = "correct-horse-battery-2026"


def make_uscc(seed: int) -> str:
    rng = random.Random(seed)
    body = "91" + "110108" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    tax_id = factory.Sequence(lambda n: make_uscc(n))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SUBMITTER
    organization = factory.SubFactory(OrganizationFactory)
    language = "zh-hans"

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            user_sync_groups(self)
