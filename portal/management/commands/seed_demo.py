"""Demo organizations, users and invoices. Idempotent; refused in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.services import user_sync_groups
from invoiceportal.invoices.intake import invoice_submit_file
from reviews.models import RegistryRecord

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo data only, refused in production

DEMO_ORGANIZATIONS = [
    ("北京云帆科技有限公司", "91110108MA01YF2K3R"),
    ("上海明川贸易有限公司", "91310115MA1H7Q8R58"),
    ("发票审核中心", "12100000MB0C3R2T7B"),
]

# username, role, organization tax ID, language, email
DEMO_USERS = [
    ("submitter", Role.SUBMITTER, "91110108MA01YF2K3R", "zh-hans"),
    ("submitter2", Role.SUBMITTER, "91310115MA1H7Q8R58", "zh-hans"),
    ("reviewer", Role.REVIEWER, "12100000MB0C3R2T7B", "zh-hans"),
    ("reviewer2", Role.REVIEWER, "12100000MB0C3R2T7B", "en"),
    ("supervisor", Role.SUPERVISOR, "12100000MB0C3R2T7B", "zh-hans"),
    ("admin", Role.ADMIN, None, "zh-hans"),
]


class Command(BaseCommand):
    help = "Create the demo organizations and users (password demo-pass-2026)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates known passwords: not in production.")
        with transaction.atomic():
            orgs = {}
            for name, tax_id in DEMO_ORGANIZATIONS:
                orgs[tax_id], _ = Organization.objects.update_or_create(
                    tax_id=tax_id, defaults={"name": name, "is_active": True}
                )
            for username, role, tax_id, language in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "role": role,
                        "organization": orgs.get(tax_id),
                        "language": language,
                        "email": f"{username}@example.com",
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                user_sync_groups(user)
        invoices = self._demo_invoices()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: users {', '.join(u[0] for u in DEMO_USERS)}; "
                f"password {DEMO_PASSWORD}; {invoices} demo invoices"
            )
        )

    def _demo_invoices(self) -> int:
        """A few invoices for the first submitter, each heading for another route
        (the registry knows some, voids one, misses one). The worker screens them."""
        try:
            from tests.docgen.registry import clean_digital_invoice, registry_row
            from tests.docgen.xml_doc import make_xml
        except ImportError:  # the test generators are not installed
            return 0
        user = User.objects.get(username="submitter")
        org = user.organization
        plans = [
            ("normal", 11),
            ("normal", 12),
            ("normal", 13),
            ("void", 14),
            (None, 15),
        ]
        for status, seed in plans:
            inv = clean_digital_invoice(
                seed, buyer_name=org.name, buyer_tax_id=org.tax_id
            )
            if status:
                RegistryRecord.objects.update_or_create(
                    identity=inv.identity, defaults=registry_row(inv, status=status)
                )
            invoice_submit_file(
                user=user, data=make_xml(inv), filename=f"demo-{seed}.xml"
            )
        return len(plans)
