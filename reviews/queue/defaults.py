"""Default SLA policies, working hours, the shipped 2026 holidays, rejection reasons,
canned replies and four-eyes rules. Seeded by migrations 0002-0004 only (issue 14: no
read path creates rows); ``seed_reference_data`` puts them back after a test flushed
the tables (the ``reference_data`` fixture of tests/conftest.py) and for ``seed_demo``.

``seed_defaults`` takes a ``get_model(app_label, name)`` so that the migration can
pass its historical models; it never overwrites what admins changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.apps import apps

from reviews.rules import seed_catalog_rules
from reviews.sla.calendar import load_holiday_entries

SLA_POLICIES = [
    # priority, name, business minutes, warn at %, from amount
    (2, "紧急 Urgent", 4 * 60, 75, None),
    (1, "较高 High", 8 * 60, 75, "100000.00"),
    (0, "普通 Normal", 16 * 60, 75, None),
]
WORKING_PERIODS = [("09:00", "12:00"), ("13:00", "18:00")]
CALENDAR_YEARS = (2026,)
REJECTION_REASONS = [
    (
        "not_genuine",
        "发票无法查验或疑似虚假",
        "The invoice cannot be verified or looks forged",
    ),
    ("wrong_buyer", "购买方信息与贵单位不符", "The buyer is not your organization"),
    (
        "amount_mismatch",
        "金额、税额或价税合计有误",
        "Amounts, tax or total do not add up",
    ),
    ("duplicate", "重复报销或重复提交", "Already claimed or submitted before"),
    ("not_deductible", "不属于可抵扣或可报销范围", "Not deductible or reimbursable"),
    ("illegible", "票面不清晰或信息不完整", "The document is illegible or incomplete"),
    ("other", "其他原因（见说明）", "Other (see the comment)"),
]
COMMENT_REQUIRED = frozenset({"other"})
CANNED_REPLIES = [
    (
        "contract",
        "请补充合同或订单",
        "Contract or order needed",
        "请上传与本发票对应的合同或订单。",
        "Please upload the contract or order this invoice relates to.",
    ),
    (
        "clearer_copy",
        "请上传清晰的原件",
        "A clear original needed",
        "票面不清晰，请上传清晰的原件（PDF、OFD 或 XML）。",
        "The document is hard to read: please upload a clear original (PDF, OFD "
        "or XML).",
    ),
    (
        "business_purpose",
        "请说明业务用途",
        "Business purpose needed",
        "请说明本次采购的业务用途。",
        "Please explain the business purpose of this purchase.",
    ),
]
SECOND_REVIEW_RULES = [
    ("amount_over", True, "1000000.00"),
    ("first_from_seller", False, None),
]


def _model(get_model: Callable | None, name: str):
    if get_model is not None:
        return get_model("reviews", name)
    return apps.get_model("reviews", name)


def seed_sla_policies(get_model: Callable | None = None) -> None:
    policy = _model(get_model, "SLAPolicy")
    for priority, name, minutes, warn, amount in SLA_POLICIES:
        policy.objects.get_or_create(
            priority=priority,
            defaults={
                "name": name,
                "target_business_minutes": minutes,
                "warn_at_percent": warn,
                "min_amount": Decimal(amount) if amount else None,
            },
        )


def seed_calendar(get_model: Callable | None = None) -> None:
    period = _model(get_model, "WorkingPeriod")
    holiday = _model(get_model, "Holiday")
    makeup = _model(get_model, "MakeupWorkday")
    if not period.objects.exists():
        for start, end in WORKING_PERIODS:
            period.objects.create(
                start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end)
            )
    if holiday.objects.exists() or makeup.objects.exists():
        return
    for year in CALENDAR_YEARS:
        for entry in load_holiday_entries(year):
            name = f"{entry.name_zh} {entry.name_en}"
            for day in entry.dates:
                holiday.objects.get_or_create(date=day, defaults={"name": name})
            for day in entry.makeup_workdays:
                makeup.objects.get_or_create(
                    date=day, defaults={"name": f"{entry.name_zh}调休 {entry.name_en}"}
                )


def seed_reasons(get_model: Callable | None = None) -> None:
    reason = _model(get_model, "RejectionReason")
    if reason.objects.exists():
        return
    fields = {f.name for f in reason._meta.get_fields()}
    for position, (code, zh, en) in enumerate(REJECTION_REASONS):
        defaults = {"label_zh": zh, "label_en": en, "position": position * 10}
        if "comment_required" in fields:  # added by migration 0003
            defaults["comment_required"] = code in COMMENT_REQUIRED
        reason.objects.get_or_create(code=code, defaults=defaults)


def seed_replies(get_model: Callable | None = None) -> None:
    reply = _model(get_model, "CannedReply")
    if reply.objects.exists():
        return
    for position, (code, title_zh, title_en, body_zh, body_en) in enumerate(
        CANNED_REPLIES
    ):
        reply.objects.get_or_create(
            code=code,
            defaults={
                "title_zh": title_zh,
                "title_en": title_en,
                "body_zh": body_zh,
                "body_en": body_en,
                "position": position * 10,
            },
        )


def seed_second_review_rules(get_model: Callable | None = None) -> None:
    rule = _model(get_model, "SecondReviewRule")
    for code, enabled, amount in SECOND_REVIEW_RULES:
        rule.objects.get_or_create(
            code=code,
            defaults={
                "enabled": enabled,
                "amount_threshold": Decimal(amount) if amount else None,
            },
        )


def seed_defaults(get_model: Callable | None = None) -> None:
    seed_sla_policies(get_model)
    seed_calendar(get_model)
    seed_reasons(get_model)
    seed_second_review_rules(get_model)
    if get_model is None:  # migrations before 0003 have no canned replies
        seed_replies(get_model)


def seed_reference_data() -> None:
    """Everything the migrations seed, with the current models (idempotent: keeps
    what admins changed)."""
    seed_defaults()
    seed_catalog_rules()
