from rest_framework.routers import DefaultRouter

from .api import WebhookEndpointViewSet

router = DefaultRouter()
router.include_root_view = False
router.register(
    "webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint"
)
urlpatterns = [*router.urls]
