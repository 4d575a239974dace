from django.urls import path

from . import views

urlpatterns = [
    path("", views.board, name="board"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_update, name="deal_update"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/win/", views.deal_win, name="deal_win"),
    path("deals/<int:pk>/lose/", views.deal_lose, name="deal_lose"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="deal_reopen"),
    path("deals/<int:pk>/approve/", views.deal_approve, name="deal_approve"),
    path("deals/<int:pk>/activities/", views.deal_log_activity, name="deal_log_activity"),
    path("deals/<int:pk>/attachments/", views.deal_attach, name="deal_attach"),
    path(
        "deals/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("deals/<int:pk>/payments/", views.deal_payment, name="deal_payment"),
]
