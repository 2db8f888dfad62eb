from django.db import migrations


def create_default(apps, schema_editor):
    """The default policy (the product description's example): the giving territory's manager and
    the receiving territory's manager both approve a reassignment."""
    policy_model = apps.get_model("planning", "ApprovalPolicy")
    step_model = apps.get_model("planning", "ApprovalPolicyStep")
    if policy_model.objects.filter(subject="reassignment").exists():
        return
    policy = policy_model.objects.create(
        name="Default: both managers approve",
        description="The outgoing and the incoming territory's managers both approve every reassignment.",
        subject="reassignment",
        order=1000,
    )
    step_model.objects.create(policy=policy, order=1, name="Outgoing manager", relation="outgoing_manager", mode="all")
    step_model.objects.create(policy=policy, order=2, name="Incoming manager", relation="incoming_manager", mode="all")


class Migration(migrations.Migration):
    dependencies = [("planning", "0004_reassignments_and_approvals")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
