from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.index, name="settings"),
    path("settings/pipelines/", views.pipelines, name="settings_pipelines"),
    path("settings/pipelines/<int:pk>/", views.pipeline_detail, name="settings_pipeline"),
    path("settings/pipelines/<int:pk>/order/", views.stage_order, name="settings_stage_order"),
    path("settings/stages/<int:pk>/", views.stage_update, name="settings_stage"),
    path("settings/stages/<int:pk>/archive/", views.stage_archive, name="settings_stage_archive"),
    path("settings/stages/<int:pk>/restore/", views.stage_restore, name="settings_stage_restore"),
    path("settings/stages/<int:pk>/criteria/", views.criterion_add, name="settings_criterion_add"),
    path("settings/criteria/<int:pk>/", views.criterion_update, name="settings_criterion"),
    path(
        "settings/criteria/<int:pk>/delete/",
        views.criterion_delete,
        name="settings_criterion_delete",
    ),
    path("settings/fields/", views.custom_fields, name="settings_fields"),
    path("settings/users/", views.users, name="settings_users"),
    path("settings/users/<int:pk>/", views.user_update, name="settings_user"),
    path("settings/users/<int:pk>/password/", views.user_password, name="settings_user_password"),
    path(
        "settings/users/<int:pk>/reset-link/",
        views.user_reset_link,
        name="settings_user_reset_link",
    ),
    path("settings/teams/", views.team_save, name="settings_team"),
    path("settings/quotas/", views.quotas, name="settings_quotas"),
    path("settings/lost-reasons/", views.lost_reasons, name="settings_lost_reasons"),
]
