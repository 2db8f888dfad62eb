"""The ownership rows (``AccountTerritory``) and the decisions they share (``RoutingDecision``) now
belong to ``territories`` (``territories.0005_ownership_rows_from_routing`` adds them to its state
over the same tables). State only for the models; their content types follow them, so the
permissions and anything pointing at the content type keep working."""

from django.db import migrations

MODELS = ("accountterritory", "routingdecision")


def move_content_types(apps, schema_editor, source="routing", target="territories"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:  # a fresh database: post_migrate creates the new one afterwards
            continue
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            old.delete()  # made already (its permissions with it); keep the one in its place
            continue
        old.app_label = target
        old.save(update_fields=["app_label"])


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="territories", target="routing")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("routing", "0010_lost_shard_watchdog_schedule"),
        ("territories", "0005_ownership_rows_from_routing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AccountTerritory"),
                migrations.DeleteModel(name="RoutingDecision"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
