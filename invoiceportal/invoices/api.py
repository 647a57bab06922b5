"""The invoices API (DESIGN.md section 7): submit, list, read, download."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.http import FileResponse, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm, user_can
from invoiceportal.common.api import ErrorSerializer
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
)

from .actions import (
    CorrectedFile,
    invoice_expedite_request,
    invoice_feedback_give,
    invoice_respond,
    invoice_withdraw,
)
from .extraction.errors import ExtractionError
from .extraction.types import (
    ExtractedInvoice,
)
from .intake import (
    SubmitResult,
    extracted_from_manual,
    invoice_submit_batch,
    invoice_submit_file,
    invoice_submit_manual,
    require_submitter,
)
from .models import ExpediteRequest, Invoice, InvoiceLine
from .receipts import receipt_pdf
from .selectors import (
    event_message,
    invoice_eta,
    invoice_get_for_user,
    latest_document,
    search_q,
)
from .special_business import deductible_tax_in
from .status import InvoiceKindChoice, InvoiceStatus


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "name",
            "spec",
            "unit",
            "quantity",
            "unit_price",
            "amount",
            "tax_rate",
            "tax_amount",
        ]


class InvoiceListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = [
            "id",
            "reference",
            "status",
            "decision_source",
            "decision_reason",
            "kind",
            "code",
            "number",
            "issue_date",
            "check_code",
            "seller_name",
            "seller_tax_id",
            "buyer_name",
            "buyer_tax_id",
            "amount",
            "tax_amount",
            "total_amount",
            "total_in_words",
            "is_red",
            "submitted_at",
            "decided_at",
        ]


class InvoiceDetailSerializer(InvoiceListSerializer):
    lines = LineSerializer(many=True, read_only=True)
    checks = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    eta = serializers.SerializerMethodField()
    sla_due_at = serializers.SerializerMethodField()
    deductible_tax = serializers.SerializerMethodField()
    extras = serializers.JSONField(read_only=True)

    class Meta(InvoiceListSerializer.Meta):
        fields = [
            *InvoiceListSerializer.Meta.fields,
            "lines",
            "checks",
            "timeline",
            "eta",
            "sla_due_at",
            "deductible_tax",
            "extras",
        ]

    def _sla(self, invoice: Invoice) -> dict[str, Any]:
        cache = self.context.setdefault("_sla", {})
        if invoice.pk not in cache:
            cache[invoice.pk] = invoice_eta(invoice)
        return cache[invoice.pk]

    @staticmethod
    def _latest_round(invoice: Invoice) -> list[Any]:
        """The results of the last screening round, in the order they were stored
        (from the prefetched ``check_results``)."""
        results = list(invoice.check_results.all())
        if not results:
            return []
        last = max(r.round for r in results)
        return sorted((r for r in results if r.round == last), key=lambda r: r.id)

    def get_checks(self, invoice: Invoice) -> list[dict[str, Any]]:
        english = (get_language() or "").startswith("en")
        return [
            {
                "rule": r.rule_code,
                "outcome": r.outcome,
                "severity": r.severity,
                "message": (r.message_en if english else r.message_zh)
                or r.message_zh
                or r.message_en,
            }
            for r in self._latest_round(invoice)
        ]

    def get_timeline(self, invoice: Invoice) -> list[dict[str, Any]]:
        user = self.context["request"].user
        events = invoice.timeline.all()
        if not user_can(user, Perm.REVIEW) and not user_can(user, Perm.ADMINISTER):
            events = [e for e in events if e.visible_to_submitter]
        return [
            {"at": e.at, "status": e.status, "message": event_message(e)}
            for e in events
        ]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_eta(self, invoice: Invoice) -> dt.datetime | None:
        eta = self._sla(invoice).get("eta")
        return None if eta is None else eta.expected_at

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_sla_due_at(self, invoice: Invoice) -> dt.datetime | None:
        return self._sla(invoice).get("due_at")

    @extend_schema_field(
        serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    )
    def get_deductible_tax(self, invoice: Invoice) -> str | None:
        """The deductible input VAT of a rail ticket or air itinerary, as computed by
        the latest screening round; null for other kinds or when not computed."""
        amount = deductible_tax_in(self._latest_round(invoice))
        return None if amount is None else f"{amount:.2f}"


class RespondSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000)
    file = serializers.FileField(required=False)


class ExpediteSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ExpediteRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpediteRequest
        fields = ["id", "state", "reason", "requested_at", "decided_at", "automatic"]


class ManualLineSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    spec = serializers.CharField(max_length=100, required=False, allow_blank=True)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    quantity = serializers.DecimalField(24, 8, required=False, allow_null=True)
    unit_price = serializers.DecimalField(24, 8, required=False, allow_null=True)
    amount = serializers.DecimalField(14, 2)
    tax_rate = serializers.DecimalField(5, 4, required=False, allow_null=True)
    tax_amount = serializers.DecimalField(14, 2, required=False, allow_null=True)


class ManualInvoiceSerializer(serializers.Serializer):
    """A paper invoice typed in by hand."""

    kind = serializers.ChoiceField(choices=InvoiceKindChoice.choices)
    code = serializers.RegexField(
        r"^\d{10}$|^\d{12}$", required=False, allow_blank=True
    )
    number = serializers.RegexField(r"^\d{8}$|^\d{20}$")
    issue_date = serializers.DateField()
    check_code = serializers.RegexField(r"^\d{20}$", required=False, allow_blank=True)
    seller_name = serializers.CharField(max_length=200)
    seller_tax_id = serializers.CharField(max_length=20)
    buyer_name = serializers.CharField(max_length=200)
    buyer_tax_id = serializers.CharField(max_length=20)
    amount = serializers.DecimalField(14, 2)
    tax_amount = serializers.DecimalField(14, 2)
    total_amount = serializers.DecimalField(14, 2)
    total_in_words = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    remarks = serializers.CharField(required=False, allow_blank=True)
    lines = ManualLineSerializer(many=True, required=False)

    def to_extracted(self) -> ExtractedInvoice:
        data = dict(self.validated_data)
        return extracted_from_manual(data, data.pop("lines", []))


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond
    ±15:59 (e.g. ``+16:00``), which ISO 8601 allows."""

    def filter(self, qs: Any, value: Any) -> Any:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return super().filter(qs, value)


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=InvoiceKindChoice.choices)
    seller_tax_id = django_filters.CharFilter()
    issue_date_after = django_filters.DateFilter("issue_date", lookup_expr="gte")
    issue_date_before = django_filters.DateFilter("issue_date", lookup_expr="lte")
    submitted_after = UtcDateTimeFilter("submitted_at", lookup_expr="gte")
    submitted_before = UtcDateTimeFilter("submitted_at", lookup_expr="lte")
    q = django_filters.CharFilter(method="search")
    ordering = django_filters.OrderingFilter(
        fields=("submitted_at", "issue_date", "total_amount", "reference", "status")
    )

    class Meta:
        model = Invoice
        fields = ["status", "kind", "seller_tax_id"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(search_q(value.strip()))


def result_body(result: SubmitResult, request: Request) -> dict[str, Any]:
    body = InvoiceDetailSerializer(result.invoice, context={"request": request}).data
    return {**body, "outcome": result.outcome}


def error_body(exc: ExtractionError | ApplicationError) -> dict[str, Any]:
    return {"code": exc.code, "message": str(exc.message), "details": exc.details}


def submit_status(result: SubmitResult) -> int:
    return status.HTTP_201_CREATED if result.created else status.HTTP_200_OK


class InvoiceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Invoices visible to the caller: their organization's, or all for staff."""

    filterset_class = InvoiceFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> Any:
        qs = Invoice.objects.visible_to(self.request.user)
        if self.action == "retrieve":
            return self._with_detail(qs)
        return qs

    @staticmethod
    def _with_detail(qs: Any) -> Any:
        """What InvoiceDetailSerializer reads, prefetched."""
        return qs.prefetch_related("lines", "timeline", "check_results")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return InvoiceListSerializer
        return InvoiceDetailSerializer

    def get_object(self) -> Invoice:
        return invoice_get_for_user(
            user=self.request.user,
            invoice_id=self.kwargs["pk"],
            queryset=self.get_queryset(),
        )

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
            "application/json": ManualInvoiceSerializer,
        },
        responses={
            201: InvoiceDetailSerializer,
            200: InvoiceDetailSerializer,
            # refused file or fields, bad Idempotency-Key; body too large; unreadable
            # file or a key reused with another body
            400: ErrorSerializer,
            413: ErrorSerializer,
            422: ErrorSerializer,
        },
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        upload = request.FILES.get("file")
        if upload is not None:
            result = invoice_submit_file(
                user=request.user,
                data=upload.read(),
                filename=upload.name,
                content_type=upload.content_type or "",
                idempotency_key=key,
            )
        else:
            require_submitter(request.user)
            serializer = ManualInvoiceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            result = invoice_submit_manual(
                user=request.user,
                extracted=serializer.to_extracted(),
                idempotency_key=key,
            )
        return Response(result_body(result, request), status=submit_status(result))

    @action(detail=False, methods=["post"])
    def batch(self, request: Request, **kwargs: Any) -> Response:
        require_submitter(request.user)  # who asks comes before what is sent
        files = request.FILES.getlist("files") or request.FILES.getlist("file")
        if not files:
            raise ApplicationError(
                _("Attach one or more files in the 'files' field."), code="no_files"
            )
        items = invoice_submit_batch(
            user=request.user,
            files=[(f.name, f.read(), f.content_type or "") for f in files],
        )
        results = []
        for item in items:
            if item.result is not None:
                results.append(
                    {
                        "filename": item.filename,
                        "outcome": item.result.outcome,
                        "invoice": InvoiceListSerializer(item.result.invoice).data,
                    }
                )
            else:
                results.append(
                    {
                        "filename": item.filename,
                        "outcome": "error",
                        "error": error_body(item.error),
                    }
                )
        return Response({"results": results}, status=status.HTTP_200_OK)

    @action(detail=True, methods=["get"])
    def document(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> FileResponse:
        invoice = self.get_object()
        document = latest_document(invoice)
        if document is None:
            raise NotFoundError(_("This invoice has no stored document."))
        return FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            as_attachment=True,
            filename=document.original_name or f"{invoice.reference}.{document.format}",
        )

    def _detail(self, request: Request, invoice: Invoice, **extra: Any) -> Response:
        fresh = self._with_detail(Invoice.objects.visible_to(request.user)).get(
            pk=invoice.pk
        )
        body = InvoiceDetailSerializer(fresh, context={"request": request}).data
        return Response({**body, **extra}, status=status.HTTP_200_OK)

    @extend_schema(request=WithdrawSerializer, responses={200: InvoiceDetailSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_withdraw(
            user=request.user,
            invoice_id=pk,
            reason=serializer.validated_data.get("reason", ""),
        )
        return self._detail(request, invoice)

    @extend_schema(
        request={
            "multipart/form-data": RespondSerializer,
            "application/json": RespondSerializer,
        },
        responses={200: InvoiceDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def respond(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        serializer = RespondSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data.get("file")
        file = (
            CorrectedFile(upload.read(), upload.name, upload.content_type or "")
            if upload
            else None
        )
        invoice = invoice_respond(
            user=request.user,
            invoice_id=pk,
            message=serializer.validated_data["message"],
            file=file,
        )
        return self._detail(request, invoice)

    @extend_schema(request=ExpediteSerializer, responses={200: InvoiceDetailSerializer})
    @action(detail=True, methods=["post"])
    def expedite(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        serializer = ExpediteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expedite = invoice_expedite_request(
            user=request.user,
            invoice_id=pk,
            reason=serializer.validated_data["reason"],
        )
        return self._detail(
            request,
            expedite.invoice,
            expedite=ExpediteRequestSerializer(expedite).data,
        )

    @extend_schema(request=FeedbackSerializer, responses={200: FeedbackSerializer})
    @action(detail=True, methods=["post"])
    def feedback(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = invoice_feedback_give(
            user=request.user,
            invoice_id=pk,
            rating=serializer.validated_data["rating"],
            comment=serializer.validated_data.get("comment", ""),
        )
        return Response(
            {"rating": feedback.rating, "comment": feedback.comment},
            status=status.HTTP_200_OK,
        )

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def receipt(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> HttpResponse:
        invoice = self.get_object()
        response = HttpResponse(receipt_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{invoice.reference}-receipt.pdf"'
        )
        return response
