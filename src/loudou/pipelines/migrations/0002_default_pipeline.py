from django.db import migrations


def create_default_pipeline(apps, schema_editor):
    from loudou.pipelines.defaults import (
        DEFAULT_CRITERIA,
        DEFAULT_CUSTOM_FIELDS,
        DEFAULT_PIPELINE,
        DEFAULT_STAGES,
    )

    Pipeline = apps.get_model("pipelines", "Pipeline")
    Stage = apps.get_model("pipelines", "Stage")
    ExitCriterion = apps.get_model("pipelines", "ExitCriterion")
    CustomField = apps.get_model("pipelines", "CustomField")
    for key, zh, en, type_ in DEFAULT_CUSTOM_FIELDS:
        CustomField.objects.get_or_create(key=key, defaults={"name_zh": zh, "name_en": en, "type": type_})
    if Pipeline.objects.filter(key=DEFAULT_PIPELINE["key"]).exists():
        return
    pipeline = Pipeline.objects.create(is_default=True, **DEFAULT_PIPELINE)
    for key, kind, position, zh, en, probability, category in DEFAULT_STAGES:
        stage = Stage.objects.create(
            pipeline=pipeline,
            key=key,
            kind=kind,
            position=position,
            name_zh=zh,
            name_en=en,
            probability=probability,
            forecast_category=category,
        )
        for criterion in DEFAULT_CRITERIA.get(key, []):
            ExitCriterion.objects.create(stage=stage, **criterion)


class Migration(migrations.Migration):
    dependencies = [("pipelines", "0001_initial")]
    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
