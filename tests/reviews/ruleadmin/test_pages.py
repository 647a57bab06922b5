"""The admin pages for rules, history, what-if preview, registry and seller lists."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from reviews.checks.catalog import RULES
from reviews.models import RegistryRecord, Rule, RuleVersion, SellerListEntry
from reviews.rules import rule_update, rules_ensure_defaults
from reviews.screening import screen_invoice
from tests.factories import UserFactory
from tests.reviews.test_screening import make_invoice, register

pytestmark = pytest.mark.django_db

THRESHOLD = "amount.threshold"
VALID_USCC = "91110108690017781B"


def rule_state(code: str = THRESHOLD) -> tuple[Any, ...]:
    rule = Rule.objects.filter(code=code).first()
    return (
        rule and (rule.version, rule.enabled, rule.outcome_on_fail, rule.params),
        RuleVersion.objects.filter(rule__code=code).count(),
        AuditEntry.objects.count(),
    )


def edit_data(**changes: Any) -> dict[str, Any]:
    """The amount-threshold form as shown, with ``changes``."""
    data = {
        "enabled": "on",
        "outcome_on_fail": "review",
        "param-threshold": "100000.00",
        "param-basis": "total_amount",
        "change_note": "Finance policy 2024-06.",
    }
    # keyword arguments cannot hold the hyphen of a parameter field's name
    data.update({k.replace("param_", "param-", 1): v for k, v in changes.items()})
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def seeded(db) -> None:
    rules_ensure_defaults()


PAGES = [
    ("reviews:rules", {}),
    ("reviews:rule_edit", {"code": THRESHOLD}),
    ("reviews:rule_history", {"code": THRESHOLD}),
    ("reviews:registry_upload", {}),
    ("reviews:seller_lists", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_admin_opens_every_page(client, admin_user, seeded, name, kwargs) -> None:
    client.force_login(admin_user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


@pytest.mark.parametrize("actor", ["submitter", "reviewer"])
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_other_roles_get_403_on_every_page(
    client, request, actor, seeded, name, kwargs
) -> None:
    client.force_login(request.getfixturevalue(actor))
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("actor", ["submitter", "reviewer"])
def test_other_roles_cannot_change_preview_or_remove(
    client, request, actor, seeded, admin_user
) -> None:
    entry = SellerListEntry.objects.create(seller_tax_id=VALID_USCC, list="watch")
    client.force_login(request.getfixturevalue(actor))
    before = rule_state()

    edit = client.post(
        reverse("reviews:rule_edit", args=[THRESHOLD]),
        edit_data(param_threshold="1"),
    )
    preview = client.post(
        reverse("reviews:rule_preview", args=[THRESHOLD]), edit_data(days="30")
    )
    remove = client.post(reverse("reviews:seller_list_remove", args=[entry.pk]))

    assert (edit.status_code, preview.status_code, remove.status_code) == (
        403,
        403,
        403,
    )
    assert rule_state() == before
    assert SellerListEntry.objects.filter(pk=entry.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get(reverse("reviews:rules"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_rule_list_shows_every_rule_with_its_state(
    client, english_admin, seeded
) -> None:
    rule_update(
        actor=english_admin,
        code=THRESHOLD,
        outcome_on_fail="reject",
        params={"threshold": "50000"},
        change_note="Nothing above 50k without a contract.",
    )
    client.force_login(english_admin)

    body = html.unescape(client.get(reverse("reviews:rules")).content.decode())

    for spec in RULES:
        assert f'data-rule="{spec.code}"' in body
        assert spec.title_en in body
    assert "v2" in body
    assert "Nothing above 50k without a contract." in body
    assert english_admin.username in body


def test_rule_list_shows_titles_in_chinese_for_chinese_users(
    client, admin_user, seeded
) -> None:
    client.force_login(admin_user)
    body = client.get(reverse("reviews:rules")).content.decode()
    assert "大额发票" in body
    assert "Large amount" not in body


def test_rule_list_does_not_write_even_before_the_rules_are_seeded(
    client, admin_user
) -> None:
    RuleVersion.objects.all().delete()
    Rule.objects.all().delete()
    client.force_login(admin_user)
    body = client.get(reverse("reviews:rules")).content.decode()
    assert Rule.objects.count() == 0
    assert all(f'data-rule="{spec.code}"' in body for spec in RULES)


def test_rule_list_queries_do_not_grow_with_the_number_of_rules(
    client, admin_user, django_assert_num_queries
) -> None:
    client.force_login(admin_user)
    client.get(reverse("reviews:rules"))  # warm up: session, user, permissions
    # One rule stored and changed by an admin...
    rule_update(
        actor=admin_user,
        code=THRESHOLD,
        params={"threshold": "1000"},
        change_note="One changed rule.",
    )
    RuleVersion.objects.exclude(rule__code=THRESHOLD).delete()
    Rule.objects.exclude(code=THRESHOLD).delete()
    with CaptureQueriesContext(connection) as one_rule:
        assert client.get(reverse("reviews:rules")).status_code == 200
    # ... then every rule stored, each changed by a different admin.
    rules_ensure_defaults()
    for spec in RULES:
        Rule.objects.filter(code=spec.code).update(
            changed_by=UserFactory(role=Role.ADMIN, organization=None)
        )

    with django_assert_num_queries(len(one_rule.captured_queries)):
        response = client.get(reverse("reviews:rules"))

    assert response.status_code == 200
    assert len(response.context["rows"]) == len(RULES)


def test_edit_page_generates_a_field_per_parameter_with_label_and_help(
    client, english_admin, seeded
) -> None:
    client.force_login(english_admin)

    body = client.get(reverse("reviews:rule_edit", args=["duplicates.near"])).content
    body = body.decode()

    assert 'name="param-amount_tolerance"' in body
    assert 'name="param-date_window_days"' in body
    assert 'name="param-statuses"' in body
    assert "Amount tolerance (CNY)" in body
    assert "Date window (days)" in body
    assert "From 0 to 31." in body
    assert 'name="change_note"' in body
    assert 'hx-post="' + reverse("reviews:rule_preview", args=["duplicates.near"])


def test_saving_the_edit_form_makes_a_new_version(client, admin_user, seeded) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("reviews:rule_edit", args=[THRESHOLD]),
        edit_data(
            param_threshold="5000",
            outcome_on_fail="reject",
            change_note="Reject above 5,000 during the audit.",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:rule_history", args=[THRESHOLD])
    rule = Rule.objects.get(code=THRESHOLD)
    assert (rule.version, rule.outcome_on_fail, rule.changed_by) == (
        2,
        "reject",
        admin_user,
    )
    assert rule.params == {"threshold": "5000", "basis": "total_amount"}
    assert rule.change_note == "Reject above 5,000 during the audit."
    assert RuleVersion.objects.filter(rule=rule).count() == 2
    assert AuditEntry.objects.filter(action="rule.updated").count() == 1


def test_disabling_a_rule_without_parameters(client, admin_user, seeded) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("reviews:rule_edit", args=["parties.buyer_name"]),
        {"outcome_on_fail": "review", "change_note": "Names vary too much."},
    )

    assert response.status_code == 302
    rule = Rule.objects.get(code="parties.buyer_name")
    assert (rule.enabled, rule.version, rule.params) == (False, 2, {})


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"param-threshold": "-5"}, "param-threshold", None),
        ({"param-threshold": "abc"}, "param-threshold", None),
        ({"param-basis": "gross"}, "param-basis", None),
        ({"outcome_on_fail": "explode"}, "outcome_on_fail", None),
        ({"change_note": "   "}, "change_note", None),
        ({"change_note": None}, "change_note", None),
        (
            {"change_note": "Same as before."},
            None,
            "These are already the rule's settings",
        ),
    ],
)
def test_invalid_changes_and_missing_notes_change_nothing(
    client, english_admin, seeded, changes, field, message
) -> None:
    client.force_login(english_admin)
    before = rule_state()

    response = client.post(
        reverse("reviews:rule_edit", args=[THRESHOLD]), edit_data(**changes)
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_valid()
    assert form.errors
    if field:
        assert form.errors[field]
    if message:
        assert message in html.unescape(response.content.decode())
    assert rule_state() == before


def test_catalog_validation_errors_are_shown_on_the_field_in_chinese(
    client, admin_user, seeded
) -> None:
    client.force_login(admin_user)
    before = rule_state("identity.format")

    response = client.post(
        reverse("reviews:rule_edit", args=["identity.format"]),
        {
            "enabled": "on",
            "outcome_on_fail": "review",
            "param-province_codes": "11, 1X",
            "param-digital_city_codes": "91",
            "param-digital_year_tolerance": "0",
            "param-max_code_age_years": "3",
            "change_note": "x",
        },
    )

    errors = response.context["form"].errors["param-province_codes"]
    assert "“1X”格式不正确" in errors[0]
    assert rule_state("identity.format") == before


def test_json_parameters_are_edited_and_validated(client, admin_user, seeded) -> None:
    client.force_login(admin_user)
    url = reverse("reviews:rule_edit", args=["rates.category"])
    base = {
        "enabled": "on",
        "outcome_on_fail": "review",
        "param-neutral_rates": "0, 0.03",
        "change_note": "Only two categories.",
    }

    bad = client.post(url, base | {"param-categories": '{"餐饮服务": ["0.06"'})
    wrong = client.post(url, base | {"param-categories": '{"餐饮服务": ["6%"]}'})
    good = client.post(url, base | {"param-categories": '{"餐饮服务": ["0.06"]}'})

    assert bad.context["form"].errors["param-categories"]
    assert "税率" in wrong.context["form"].errors["param-categories"][0]
    assert good.status_code == 302
    rule = Rule.objects.get(code="rates.category")
    assert rule.params["categories"] == {"餐饮服务": ["0.06"]}
    assert rule.params["neutral_rates"] == ["0", "0.03"]


def test_history_shows_every_version_with_who_when_note_and_diff(
    client, english_admin, seeded
) -> None:
    rule_update(
        actor=english_admin,
        code=THRESHOLD,
        params={"threshold": "50000"},
        change_note="Lower to 50k.",
    )
    rule_update(
        actor=english_admin,
        code=THRESHOLD,
        outcome_on_fail="reject",
        change_note="Now reject.",
    )
    client.force_login(english_admin)

    response = client.get(reverse("reviews:rule_history", args=[THRESHOLD]))

    body = response.content.decode()
    versions = response.context["versions"]
    assert [v.version for v in versions] == [3, 2, 1]
    assert [c.name for c in versions[0].changes] == ["outcome_on_fail"]
    [threshold_change] = versions[1].changes
    assert (threshold_change.before, threshold_change.after) == ("100000.00", "50000")
    for text in ("Lower to 50k.", "Now reject.", "Threshold (CNY)", "100000.00"):
        assert text in body
    assert english_admin.username in body
    assert 'data-version="1"' in body
    assert "2024-06-03 10:00" in body


def test_preview_shows_counts_before_and_after_and_the_changed_invoices(
    client, english_admin, seeded, organization, submitter
) -> None:
    small = make_invoice(organization, submitter)
    register(small)
    screen_invoice(invoice_id=small.pk)
    client.force_login(english_admin)
    before = (rule_state(), AuditEntry.objects.count())

    response = client.post(
        reverse("reviews:rule_preview", args=[THRESHOLD]),
        edit_data(param_threshold="1000", change_note="", days="30"),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    report = response.context["report"]
    assert report.before["approve"] == 1
    assert report.after["review"] == 1
    body = response.content.decode()
    assert 'data-route="review"' in body
    assert 'data-after="1"' in body
    assert small.reference in body
    assert "amount.threshold" in body
    assert (rule_state(), AuditEntry.objects.count()) == before


def test_preview_of_an_invalid_draft_lists_the_errors(
    client, admin_user, seeded
) -> None:
    client.force_login(admin_user)

    response = client.post(
        reverse("reviews:rule_preview", args=[THRESHOLD]),
        edit_data(param_threshold="-1", days="30"),
    )

    assert response.status_code == 200
    assert response.context["report"] is None
    assert 'data-preview="invalid"' in response.content.decode()


def test_preview_needs_post(client, admin_user) -> None:
    client.force_login(admin_user)
    response = client.get(reverse("reviews:rule_preview", args=[THRESHOLD]))
    assert response.status_code == 405


def test_unknown_rule_is_404(client, admin_user) -> None:
    client.force_login(admin_user)
    assert client.get(reverse("reviews:rule_edit", args=["nope"])).status_code == 404
    assert client.get(reverse("reviews:rule_history", args=["nope"])).status_code == 404


REGISTRY_CSV = (
    "code,number,issue_date,seller_tax_id,buyer_tax_id,amount,tax_amount,"
    "total_amount,check_code,status\n"
    ",24112000000048542163,2024-05-28,91110108690017781B,,4197.17,251.83,"
    "4449.00,,normal\n"
    "1100234130,12345678,2024-05-01,,,100.00,13.00,113.00,,void\n"
    ",123,2024-05-01,,,1,0,1,,normal\n"
    ",24112000000048542164,2024-13-01,,,1,0,1,,normal\n"
)


def upload(client, text: str, name: str = "registry.csv"):
    return client.post(
        reverse("reviews:registry_upload"),
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


def test_registry_upload_reports_created_updated_and_refused_rows(
    client, english_admin
) -> None:
    client.force_login(english_admin)

    first = upload(client, REGISTRY_CSV)
    second = upload(client, REGISTRY_CSV)

    assert first.context["report"].created == 2
    body = first.content.decode()
    assert 'data-created="2"' in body
    assert 'data-refused="2"' in body
    assert 'data-line="4"' in body and 'data-line="5"' in body
    assert "number must be 8 or 20 digits." in body
    assert "issue_date must be YYYY-MM-DD." in body
    assert "The registry holds 2 records." in body
    assert 'data-updated="2"' in second.content.decode()
    assert RegistryRecord.objects.count() == 2
    assert AuditEntry.objects.filter(action="registry.import").count() == 2


def test_registry_upload_reasons_follow_the_users_language(client, admin_user) -> None:
    client.force_login(admin_user)
    body = upload(client, REGISTRY_CSV).content.decode()
    assert "发票号码应为 8 位或 20 位数字。" in body


def test_registry_upload_of_a_file_without_the_columns(client, admin_user) -> None:
    client.force_login(admin_user)
    response = upload(client, "a,b\n1,2\n")
    assert response.context["report"].created == 0
    assert "缺少列" in response.content.decode()
    assert RegistryRecord.objects.count() == 0


def test_registry_upload_needs_a_file(client, admin_user) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("reviews:registry_upload"), {})
    assert response.context["form"].errors["file"]
    assert AuditEntry.objects.count() == 0


def test_seller_lists_add_list_and_remove_with_audit(client, english_admin) -> None:
    client.force_login(english_admin)

    added = client.post(
        reverse("reviews:seller_lists"),
        {
            "seller_tax_id": " 91110108690017781b ",
            "list_name": "block",
            "note": "Fake invoices in 2023.",
        },
    )

    assert added.status_code == 302
    entry = SellerListEntry.objects.get()
    assert (entry.seller_tax_id, entry.list, entry.added_by) == (
        VALID_USCC,
        "block",
        english_admin,
    )
    page = client.get(reverse("reviews:seller_lists")).content.decode()
    assert VALID_USCC in page and "Fake invoices in 2023." in page

    removed = client.post(reverse("reviews:seller_list_remove", args=[entry.pk]))

    assert removed.status_code == 302
    assert not SellerListEntry.objects.exists()
    assert list(
        AuditEntry.objects.order_by("seq").values_list("action", flat=True)
    ) == ["seller_list.added", "seller_list.removed"]
    again = client.post(reverse("reviews:seller_list_remove", args=[entry.pk]))
    assert again.status_code == 302
    assert AuditEntry.objects.count() == 2


@pytest.mark.parametrize(
    "tax_id", ["91110108690017781A", "123", "ABC!", "911101086900177810000"]
)
def test_seller_lists_refuse_invalid_tax_ids_clearly(
    client, english_admin, tax_id
) -> None:
    client.force_login(english_admin)

    response = client.post(
        reverse("reviews:seller_lists"), {"seller_tax_id": tax_id, "list_name": "watch"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["seller_tax_id"]
    assert len(errors) == 1
    assert errors[0].startswith(f"{tax_id} is not a valid taxpayer ID.")
    assert not SellerListEntry.objects.exists()
    assert AuditEntry.objects.count() == 0


def test_seller_lists_refuse_a_seller_already_on_the_list(
    client, english_admin
) -> None:
    SellerListEntry.objects.create(seller_tax_id=VALID_USCC, list="watch")
    client.force_login(english_admin)

    response = client.post(
        reverse("reviews:seller_lists"),
        {"seller_tax_id": VALID_USCC, "list_name": "watch"},
    )

    assert "already on this list" in response.context["form"].errors["seller_tax_id"][0]
    assert SellerListEntry.objects.count() == 1


def test_admin_home_links_to_the_rule_pages(client, admin_user) -> None:
    client.force_login(admin_user)
    body = client.get(reverse("accounts:admin_home")).content.decode()
    for name in ("reviews:rules", "reviews:registry_upload", "reviews:seller_lists"):
        assert f'href="{reverse(name)}"' in body


@pytest.mark.parametrize("code", sorted(spec.code for spec in RULES))
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_edit_page_of_every_rule_opens(client, admin_user, seeded, code, language):
    """Issue 17: a parameter named like an attribute of the form broke its page."""
    client.force_login(admin_user)
    client.cookies["django_language"] = language

    response = client.get(reverse("reviews:rule_edit", args=[code]))

    assert response.status_code == 200
    body = response.content.decode()
    for spec in next(s for s in RULES if s.code == code).param_specs:
        assert f'name="param-{spec.name}"' in body


def test_the_registry_rule_saves_the_fields_chosen(client, admin_user, seeded) -> None:
    client.force_login(admin_user)
    url = reverse("reviews:rule_edit", args=["registry.match"])

    response = client.post(
        url,
        {
            "enabled": "on",
            "outcome_on_fail": "review",
            "param-fields": ["number", "issue_date", "total_amount"],
            "param-amount_tolerance": "0.50",
            "change_note": "Compare only what the provider returns.",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    rule = Rule.objects.get(code="registry.match")
    assert rule.version == 2
    assert rule.params["fields"] == ["number", "issue_date", "total_amount"]
    assert rule.params["amount_tolerance"] == "0.50"
    assert rule.change_note == "Compare only what the provider returns."
    assert AuditEntry.objects.filter(action="rule.updated").count() == 1
    shown = client.get(url).context["form"]["param-fields"].value()
    assert list(shown) == ["number", "issue_date", "total_amount"]


def test_no_rule_parameter_field_can_shadow_a_form_attribute(seeded) -> None:
    from reviews.ruleadmin.forms import RuleForm

    form_attributes = set(dir(RuleForm))
    for spec in RULES:
        for param in spec.param_specs:
            name = f"param-{param.name}"
            assert name not in form_attributes
            assert not name.isidentifier()
