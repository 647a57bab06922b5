from django.contrib import admin

from .models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "subject", "kind", "channel", "sent_at", "read_at"]
    list_filter = ["kind", "channel"]
    raw_id_fields = ["user"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    # Notifications are written by the services only: nothing to add or edit here
    # (an add form of read-only fields could only fail).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_decided", "email_info_requested"]
    raw_id_fields = ["user"]
