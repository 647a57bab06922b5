from rest_framework.routers import DefaultRouter

from .api import (
    CalendarDayViewSet,
    CannedReplyViewSet,
    RejectionReasonViewSet,
    SLAPolicyViewSet,
)

router = DefaultRouter()
router.include_root_view = False
router.register("sla-policies", SLAPolicyViewSet, basename="sla-policy")
router.register("calendar/days", CalendarDayViewSet, basename="calendar-day")
router.register(
    "rejection-reasons", RejectionReasonViewSet, basename="rejection-reason"
)
router.register("canned-replies", CannedReplyViewSet, basename="canned-reply")
urlpatterns = [*router.urls]
