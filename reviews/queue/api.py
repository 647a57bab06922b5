"""The review-task API (DESIGN.md section 7): list, claim next, release, decide;
supervisors also reassign and read the board."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import HasCapability
from accounts.models import User
from accounts.roles import Perm
from invoiceportal.common.errors import NotFoundError, PermissionDeniedError
from reviews.models import ReviewTask, TaskDecision, task_is_breaching

from . import selectors, services
from .filters import ReviewTaskApiFilter
from .pagination import QueueCursorPagination


class ReviewTaskSerializer(serializers.ModelSerializer):
    invoice = serializers.PrimaryKeyRelatedField(read_only=True)
    priority = serializers.SerializerMethodField()
    breached = serializers.SerializerMethodField()

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "invoice",
            "stage",
            "state",
            "priority",
            "assigned_to",
            "due_at",
            "breached",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["normal", "high", "urgent"]))
    def get_priority(self, task: ReviewTask) -> str:
        return services.PRIORITY_NAMES.get(task.priority, "normal")

    def get_breached(self, task: ReviewTask) -> bool:
        """ "Breaching" as ``reviews.models`` defines it, or breached while open."""
        now = self.context.get("now") or timezone.now()
        return task_is_breaching(task, now) or (
            task.is_open and task.breached_at is not None
        )


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[
            TaskDecision.APPROVE.value,
            TaskDecision.REJECT.value,
            TaskDecision.REQUEST_INFO.value,
        ]
    )
    reason_code = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )


class ReassignSerializer(serializers.Serializer):
    assigned_to = serializers.IntegerField()


class ReviewTaskViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReviewTaskSerializer
    permission_classes = [HasCapability.of(Perm.REVIEW)]
    filterset_class = ReviewTaskApiFilter
    pagination_class = QueueCursorPagination

    def get_queryset(self):
        tasks = ReviewTask.objects.visible_to(self.request.user).in_claim_order()
        if self.action == "list" and "state" not in self.request.query_params:
            tasks = tasks.open()
        return tasks

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        request=None,
        responses={
            200: ReviewTaskSerializer,
            204: OpenApiResponse(description="The queue is empty for you."),
        },
    )
    @action(detail=False, methods=["post"], url_path="claim-next")
    def claim_next(self, request: Request, **kwargs: Any) -> Response:
        task = services.review_task_claim_next(user=request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(task).data)

    @extend_schema(
        request=None,
        responses=ReviewTaskSerializer,
        description="Claim this task: the rules of claim-next (lease, separation of "
        "duties, four-eyes, at most REVIEW_MAX_OPEN_CLAIMS claims per reviewer).",
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str, **kwargs: Any) -> Response:
        task = services.review_task_claim(user=request.user, task_id=_id(pk))
        return Response(self.get_serializer(task).data)

    @extend_schema(request=None, responses=ReviewTaskSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str, **kwargs: Any) -> Response:
        task = services.review_task_release(user=request.user, task_id=_id(pk))
        return Response(self.get_serializer(task).data)

    @extend_schema(request=DecisionSerializer, responses=ReviewTaskSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str, **kwargs: Any) -> Response:
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.review_task_decide(
            user=request.user, task_id=_id(pk), **data.validated_data
        )
        return Response(self.get_serializer(task).data)

    @extend_schema(request=ReassignSerializer, responses=ReviewTaskSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str, **kwargs: Any) -> Response:
        data = ReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to_user = User.objects.filter(pk=data.validated_data["assigned_to"]).first()
        if to_user is None:
            raise NotFoundError()
        task = services.review_task_reassign(
            actor=request.user, task_id=_id(pk), to_user=to_user
        )
        return Response(self.get_serializer(task).data)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def board(self, request: Request, **kwargs: Any) -> Response:
        """Supervisors: counts, workload per reviewer, at-risk and breached tasks."""
        if not HasCapability.of(Perm.SUPERVISE)().has_permission(request, self):
            raise PermissionDeniedError(
                _("You do not have the permission to do this."),
                code="permission_denied",
            )
        board = selectors.supervisor_board()
        ser = self.get_serializer
        return Response(
            {
                "counts": board["counts"],
                "reviewers": [
                    {
                        "id": r.pk,
                        "username": r.username,
                        "holding": r.holding,
                        "decided_today": r.decided_today,
                    }
                    for r in board["reviewers"]
                ],
                "held": ser(board["held"], many=True).data,
                "at_risk": ser(board["at_risk"], many=True).data,
                "breached": ser(board["breached"], many=True).data,
            }
        )


def _id(pk: str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFoundError() from exc
