"""In-app notifications, mounted at /routing/notifications/ inside the ``routing`` namespace."""

from django.urls import path

from routing import views_alerts

urlpatterns = [
    path("", views_alerts.notification_list, name="notifications"),
    path("<int:pk>/read/", views_alerts.notification_read, name="notification_read"),
    path("read-all/", views_alerts.notifications_read_all, name="notifications_read_all"),
]
