"""The people, rules and registry of tests/scale/test_many_hosts.py, written into its
fresh database with the production settings the hosts run (not the test settings),
and the invoices to upload, written as files.

    DATABASE_URL=... python -m tests.scale.many_hosts_seed OUT_DIR COUNT

Even-numbered invoices are known to the registry (screening approves them), odd ones
are not (they go to a reviewer). Prints a JSON description of what it made.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(out_dir: Path, count: int) -> dict:
    import django

    django.setup()

    from accounts.roles import Role
    from reviews.models import RegistryRecord
    from reviews.rules import rule_update
    from tests.docgen.registry import clean_digital_invoice, registry_row
    from tests.docgen.xml_doc import make_xml
    from tests.factories import PASSWORD, OrganizationFactory, UserFactory

    buyer = OrganizationFactory(name="多主机测试有限公司")
    centre = OrganizationFactory(name="审核中心")
    submitter = UserFactory(
        username="mh-submitter", role=Role.SUBMITTER, organization=buyer
    )
    reviewer = UserFactory(
        username="mh-reviewer", role=Role.REVIEWER, organization=centre
    )
    admin = UserFactory(username="mh-admin", role=Role.ADMIN, organization=None)
    rule_update(
        actor=admin,
        code="audit.sample",
        params={"rate": "0"},
        change_note="many-hosts test: no random sample",
    )
    invoices = []
    for i in range(count):
        inv = clean_digital_invoice(
            7000 + i, buyer_name=buyer.name, buyer_tax_id=buyer.tax_id
        )
        known = i % 2 == 0
        if known:
            RegistryRecord.objects.create(**registry_row(inv))
        path = out_dir / f"invoice-{i:03d}.xml"
        path.write_bytes(make_xml(inv))
        invoices.append({"path": str(path), "known": known})
    return {
        "password": PASSWORD,
        "submitter": submitter.username,
        "reviewer": reviewer.username,
        "invoices": invoices,
    }


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    print(json.dumps(main(target, int(sys.argv[2]))))
