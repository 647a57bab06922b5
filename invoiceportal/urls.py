from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import views as account_views
from accounts.access import SchemaAccess
from accounts.api.views import (
    ObtainTokenView,
    OrganizationViewSet,
    SignOutEverywhereView,
    UserViewSet,
)
from insight.api import ForecastView
from invoiceportal.common import health, prometheus, site_files
from portal.submitter.api import InvoiceViewSet
from reviews.metrics_api import MetricsSummaryView

admin.site.site_header = _("Invoice review portal administration")
admin.site.site_title = _("Invoice review portal")

api_router = DefaultRouter()
api_router.register("organizations", OrganizationViewSet, basename="organization")
api_router.register("users", UserViewSet, basename="user")
api_router.register("invoices", InvoiceViewSet, basename="invoice")

api_patterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path(
        "auth/sign-out-everywhere/",
        SignOutEverywhereView.as_view(),
        name="sign-out-everywhere",
    ),
    path("metrics/summary/", MetricsSummaryView.as_view(), name="metrics-summary"),
    path("metrics/forecast/", ForecastView.as_view(), name="metrics-forecast"),
    # Public in development, signed-in users only in production (API_DOCS_PUBLIC);
    # the docs page loads its script from a URL, as the Content-Security-Policy wants.
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[SchemaAccess]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", permission_classes=[SchemaAccess]
        ),
        name="docs",
    ),
    *api_router.urls,
    path("", include("reviews.queue.api_urls")),
    path("", include("reviews.ruleadmin.api_urls")),
    path("", include("reviews.adminpages.api_urls")),
    path("", include("webhooks.api_urls")),
]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("invoices/", include("portal.submitter.urls")),
    path("reviews/", include("reviews.urls")),
    path("reviews/", include("reviews.workbench.urls")),
    path("performance/", include("insight.urls")),
    path("notifications/", include("invoiceportal.notifications.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("audit/", include("portal.auditlog.urls")),
    path("api/v1/", include((api_patterns, "api"))),
    path("django-admin/", admin.site.urls),
    path("favicon.ico", site_files.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", prometheus.metrics, name="metrics"),
]

# API paths answer errors as {code, message, details}; pages keep Django's pages.
handler400 = "invoiceportal.common.api.handler400"
handler403 = "invoiceportal.common.api.handler403"
handler404 = "invoiceportal.common.api.handler404"
handler500 = "invoiceportal.common.database_busy.server_error"  # 503 if pool full
