from rest_framework.routers import DefaultRouter

from .api import RuleViewSet

router = DefaultRouter()
router.register("rules", RuleViewSet, basename="rule")
urlpatterns = [*router.urls]
