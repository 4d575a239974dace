from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications_view, name="notifications"),
    path(
        "notifications/teams/<int:team_id>/channels/new/",
        views.channel_create,
        name="channel_create",
    ),
    path("notifications/channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("notifications/channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("notifications/channels/<int:pk>/test/", views.channel_test, name="channel_test"),
]
