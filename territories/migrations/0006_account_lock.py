import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def copy_locks(apps, schema_editor):
    """Every account's lock, from the column on Account to its own row."""
    Account = apps.get_model("salesos", "Account")
    AccountLock = apps.get_model("territories", "AccountLock")
    rows = Account.objects.filter(locked_territory__isnull=False).values_list("pk", "locked_territory_id")
    AccountLock.objects.bulk_create(
        (AccountLock(account_id=a, territory_id=t) for a, t in rows.iterator(chunk_size=5000)), batch_size=5000
    )


def copy_locks_back(apps, schema_editor):
    Account = apps.get_model("salesos", "Account")
    AccountLock = apps.get_model("territories", "AccountLock")
    for a, t in AccountLock.objects.values_list("account_id", "territory_id").iterator(chunk_size=5000):
        Account.objects.filter(pk=a).update(locked_territory_id=t)


class Migration(migrations.Migration):
    dependencies = [
        ("salesos", "0008_sales_profile_share_location"),
        ("territories", "0005_ownership_rows_from_routing"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountLock",
            fields=[
                (
                    "account",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="territory_lock",
                        serialize=False,
                        to="salesos.account",
                    ),
                ),
                ("locked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "territory",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="account_locks",
                        to="territories.territory",
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_locks, copy_locks_back),
    ]
