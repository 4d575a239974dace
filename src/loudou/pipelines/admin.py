"""Admins configure pipelines, stages, probabilities, exit criteria and custom fields here."""

from django.contrib import admin
from django.http import HttpRequest

from .models import CustomField, ExitCriterion, Pipeline, Stage
from .services import ensure_outcome_stages


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = (
        "position",
        "key",
        "kind",
        "name_zh",
        "name_en",
        "probability",
        "forecast_category",
        "rot_days",
    )


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("key", "name_zh", "name_en", "is_default", "currency")
    inlines = [StageInline]

    def save_related(
        self, request: HttpRequest, form: object, formsets: object, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        ensure_outcome_stages(form.instance)


class ExitCriterionInline(admin.StackedInline):
    model = ExitCriterion
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = (
        "pipeline",
        "position",
        "key",
        "name_zh",
        "name_en",
        "probability",
        "forecast_category",
        "rot_days",
    )
    list_filter = ("pipeline", "kind")
    inlines = [ExitCriterionInline]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("key", "name_zh", "name_en", "type")
