from django.urls import path

from . import daily_views, views

urlpatterns = [
    path("", views.board_view, name="board"),
    path("board/column/<int:stage_id>/", views.board_column, name="board_column"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_update, name="deal_update"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/move-fix/", views.deal_move_fix, name="deal_move_fix"),
    path("deals/<int:pk>/lose-dialog/", views.lose_dialog, name="lose_dialog"),
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
    path("deals/<int:pk>/contacts/", views.deal_contact, name="deal_contact"),
    # The daily loop: Today, next steps, approval requests.
    path("today/", daily_views.today, name="today"),
    path("deals/<int:pk>/next-steps/", daily_views.step_schedule, name="step_schedule"),
    path("next-steps/<int:step_id>/complete/", daily_views.step_complete, name="step_complete"),
    path(
        "next-steps/<int:step_id>/reschedule/",
        daily_views.step_reschedule,
        name="step_reschedule",
    ),
    path("next-steps/<int:step_id>/cancel/", daily_views.step_cancel, name="step_cancel"),
    path(
        "deals/<int:pk>/approval-request/",
        daily_views.approval_request,
        name="approval_request",
    ),
    path("approvals/", daily_views.approval_queue, name="approval_queue"),
    path(
        "approvals/<int:request_id>/decide/",
        daily_views.approval_decide,
        name="approval_decide",
    ),
]
