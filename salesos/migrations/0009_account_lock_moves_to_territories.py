from django.db import migrations


class Migration(migrations.Migration):
    """An account's lock is a territories.AccountLock row now (copied there by territories 0005)."""

    dependencies = [
        ("salesos", "0008_sales_profile_share_location"),
        ("territories", "0006_account_lock"),
    ]

    operations = [
        migrations.RemoveField(model_name="account", name="locked_territory"),
    ]
