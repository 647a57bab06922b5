from rest_framework.routers import DefaultRouter

from .api import ReviewTaskViewSet

router = DefaultRouter()
router.register("review-tasks", ReviewTaskViewSet, basename="review-task")
urlpatterns = [*router.urls]
