"""The invoices API (DESIGN.md section 7): submit, list, read, download.

The list is read in keyset pages (``after``/``before`` cursors in the ``next`` and
``previous`` links, no OFFSET, a count bounded at ``COUNT_CAP``); the detail is the
invoice page's read model (``selectors.invoice_page``), which the serializers only
shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from invoiceportal.common.api import ErrorSerializer
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
)
from invoiceportal.invoices.actions import (
    CorrectedFile,
    invoice_expedite_request,
    invoice_feedback_give,
    invoice_respond,
    invoice_withdraw,
)
from invoiceportal.invoices.attachments import (
    attachment_from_upload,
)
from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
)
from invoiceportal.invoices.intake import (
    SubmitResult,
    extracted_from_manual,
    invoice_submit_batch,
    invoice_submit_file,
    invoice_submit_manual,
    require_submitter,
)
from invoiceportal.invoices.models import ExpediteRequest, Invoice, InvoiceLine
from invoiceportal.invoices.receipts import receipt_pdf
from invoiceportal.invoices.selectors import (
    COUNT_CAP,
    DEFAULT_ORDERING,
    KEYSET_ORDERINGS,
    InvalidCursor,
    invoice_get_for_user,
    keyset_page,
    latest_document,
    search_q,
)
from invoiceportal.invoices.special_business import deductible_tax_in
from invoiceportal.invoices.status import InvoiceKindChoice, InvoiceStatus

from .attachments import answer_attachment_get_for_user, attachment_response
from .selectors import InvoicePage, invoice_page, invoice_page_just_stored


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


class AttachmentSerializer(serializers.Serializer):
    """A file sent with an answer (read-only; for the schema)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField()
    download_url = serializers.URLField()


class InvoiceDetailSerializer(InvoiceListSerializer):
    """An invoice as its page shows it, from the page's read model (``InvoicePage``).
    ``context["pages"]`` may hold read models already built, by invoice id: an
    upload's answer passes the one it built from the rows it wrote."""

    lines = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    eta = serializers.SerializerMethodField()
    sla_due_at = serializers.SerializerMethodField()
    deductible_tax = serializers.SerializerMethodField()
    extras = serializers.JSONField(read_only=True)
    # Field names a reviewer corrected on the workbench (issue 11); who and why stay
    # in the audit log.
    corrected_fields = serializers.SerializerMethodField()
    # Files sent with the answers to reviewers' questions (issue 11).
    attachments = serializers.SerializerMethodField()

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
            "corrected_fields",
            "attachments",
        ]

    @extend_schema_field(LineSerializer(many=True, read_only=True))
    def get_lines(self, invoice: Invoice) -> list[dict[str, Any]]:
        return LineSerializer(self._page(invoice).lines, many=True).data

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, invoice: Invoice) -> list[dict[str, Any]]:
        request = self.context.get("request")
        rows = []
        for item in self._page(invoice).answer_attachments:
            path = reverse(
                "api:invoice-attachment",
                kwargs={"pk": str(invoice.pk), "attachment_id": item.pk},
            )
            rows.append(
                {
                    "id": item.pk,
                    "name": item.original_name,
                    "size": item.size,
                    "content_type": item.content_type,
                    "sha256": item.sha256,
                    "uploaded_at": item.uploaded_at,
                    "answered_at": item.event.at,
                    "download_url": request.build_absolute_uri(path)
                    if request is not None
                    else path,
                }
            )
        return rows

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_corrected_fields(self, invoice: Invoice) -> list[str]:
        return sorted(invoice.corrected_fields or {})

    def _page(self, invoice: Invoice) -> InvoicePage:
        """The invoice page's read model, once per invoice and request."""
        pages = self.context.setdefault("pages", {})
        if invoice.pk not in pages:
            pages[invoice.pk] = invoice_page(invoice, user=self.context["request"].user)
        return pages[invoice.pk]

    def get_checks(self, invoice: Invoice) -> list[dict[str, Any]]:
        return [
            {
                "rule": c.rule,
                "outcome": c.outcome,
                "severity": c.severity,
                "message": c.message,
            }
            for c in self._page(invoice).checks
        ]

    def get_timeline(self, invoice: Invoice) -> list[dict[str, Any]]:
        return [
            {"at": e.at, "status": e.status, "message": e.message}
            for e in self._page(invoice).events
        ]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_eta(self, invoice: Invoice) -> dt.datetime | None:
        eta = self._page(invoice).eta
        return None if eta is None else eta.expected_at

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_sla_due_at(self, invoice: Invoice) -> dt.datetime | None:
        return self._page(invoice).sla.get("due_at")

    @extend_schema_field(
        serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    )
    def get_deductible_tax(self, invoice: Invoice) -> str | None:
        """The deductible input VAT of a rail ticket or air itinerary, as computed by
        the latest screening round; null for other kinds or when not computed."""
        amount = deductible_tax_in(self._page(invoice).checks)
        return None if amount is None else f"{amount:.2f}"


class RespondSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000)
    file = serializers.FileField(required=False)
    # Supporting documents (PDF, JPEG, PNG), multipart only; each is checked by the
    # service, which names a refused one.
    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
    )


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


class InvoiceCursorPagination(BasePagination):
    """Keyset pages of ``/api/v1/invoices/``: ``{count, count_capped, next,
    previous, results}``. ``next``/``previous`` carry an opaque ``after``/``before``
    cursor in the list's ``ordering``; ``count`` is exact up to ``COUNT_CAP`` (then
    ``count_capped`` is true), read with a LIMITed query, never a full COUNT(*)."""

    page_size = 50
    max_page_size = 200

    def _size(self, request: Request) -> int:
        raw = request.query_params.get("page_size", "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ApplicationError(
                _("page_size must be a whole number from 1 to %(max)s.")
                % {"max": self.max_page_size},
                code="invalid_page_size",
                details={"page_size": raw},
            )
        return size

    @staticmethod
    def _ordering(request: Request) -> str:
        ordering = request.query_params.get("ordering", "").strip()
        if not ordering:
            return DEFAULT_ORDERING
        if ordering not in KEYSET_ORDERINGS:
            raise ApplicationError(
                _("Order the list by one of: %(choices)s.")
                % {"choices": ", ".join(sorted(KEYSET_ORDERINGS))},
                code="invalid_ordering",
                details={"ordering": ordering},
            )
        return ordering

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Invoice]:
        self.request = request
        try:
            self.page = keyset_page(
                queryset,
                after=request.query_params.get("after", ""),
                before=request.query_params.get("before", ""),
                size=self._size(request),
                ordering=self._ordering(request),
                strict=True,
            )
        except InvalidCursor as exc:
            raise ApplicationError(
                _(
                    "This page cursor is not valid for this list; follow the next "
                    "and previous links as given."
                ),
                code="invalid_cursor",
            ) from exc
        return self.page.rows

    def _link(self, param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        other = "before" if param == "after" else "after"
        return replace_query_param(remove_query_param(url, other), param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.page.count,
                "count_capped": self.page.count_capped,
                "next": self._link("after", self.page.next_cursor),
                "previous": self._link("before", self.page.prev_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "count_capped", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"Exact up to {COUNT_CAP}; see count_capped.",
                },
                "count_capped": {"type": "boolean"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": text,
                "schema": {"type": kind},
            }
            for name, kind, text in (
                ("after", "string", "Cursor: the page after (from `next`)."),
                ("before", "string", "Cursor: the page before (from `previous`)."),
                ("page_size", "integer", "Rows per page, 1 to 200 (default 50)."),
            )
        ]


def result_body(result: SubmitResult, request: Request) -> dict[str, Any]:
    context: dict[str, Any] = {"request": request}
    if result.written is not None:
        # a new invoice: its lines and document are what this request wrote, and it
        # has no checks or answers yet (four queries fewer per upload)
        context["pages"] = {
            result.invoice.pk: invoice_page_just_stored(
                result.invoice,
                user=request.user,
                lines=result.written.lines,
                documents=result.written.documents,
            )
        }
    body = InvoiceDetailSerializer(result.invoice, context=context).data
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
    pagination_class = InvoiceCursorPagination
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> Any:
        qs = Invoice.objects.visible_to(self.request.user)
        if self.action == "retrieve":
            return self._with_detail(qs)
        return qs

    @staticmethod
    def _with_detail(qs: Any) -> Any:
        """The lines prefetched; the rest is the page's read model."""
        return qs.prefetch_related("lines")

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
            attachments=[
                attachment_from_upload(f)
                for f in serializer.validated_data.get("attachments", [])
            ],
        )
        return self._detail(request, invoice)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): bytes,
            403: ErrorSerializer,
            404: ErrorSerializer,
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment",
    )
    def attachment(
        self,
        request: Request,
        pk: str | None = None,
        attachment_id: str | None = None,
        **kwargs: Any,
    ) -> FileResponse:
        """A file sent with an answer, as sent (``Content-Disposition: attachment``).
        The invoice's organization and the staff who may see its review task."""
        item = answer_attachment_get_for_user(
            user=request.user, invoice_id=pk, attachment_id=attachment_id
        )
        return attachment_response(item)

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
