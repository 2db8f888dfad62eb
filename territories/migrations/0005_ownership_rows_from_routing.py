"""The ownership rows (``AccountTerritory``) and the decisions they share (``RoutingDecision``) move
here from ``routing``, below it, so the territory pages read where accounts sit without importing
the floor above. State only: the tables keep their names (``routing_accountterritory``,
``routing_routingdecision``), indexes and constraints, so no SQL runs on the largest table.
``routing.0011_ownership_rows_to_territories`` removes them from routing's state and moves their
content types."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0010_lost_shard_watchdog_schedule'),
        ('salesos', '0008_sales_profile_share_location'),
        ('territories', '0004_plan_lifecycle'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name='RoutingDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('plan_version', models.PositiveIntegerField(default=0, help_text="The plan's version when decided")),
                ('matched', models.JSONField(blank=True, default=list)),
                ('locked_territory_id', models.BigIntegerField(blank=True, help_text="The record's lock, as it was", null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('plan', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='territories.territoryplan')),
            ],
            options={
                'verbose_name': 'routing decision',
                'db_table': 'routing_routingdecision',
            },
        ),
        migrations.CreateModel(
            name='AccountTerritory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_primary', models.BooleanField(default=True)),
                ('credit_percent', models.PositiveSmallIntegerField(default=100)),
                ('source', models.CharField(choices=[('rule', 'Rule'), ('named', 'Named account list'), ('lock', 'Manual lock'), ('manual', 'Manual routing')], default='rule', max_length=8)),
                ('conflict', models.BooleanField(default=False)),
                ('reason', models.CharField(blank=True, help_text='Why a person routed it by hand', max_length=200)),
                ('valid_from', models.DateTimeField(default=django.utils.timezone.now)),
                ('valid_to', models.DateTimeField(blank=True, null=True)),
                ('account', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='territory_rows', to='salesos.account')),
                ('plan', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='territories.territoryplan')),
                ('routed_by', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('territory', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='account_rows', to='territories.territory')),
                ('decision', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='territories.routingdecision')),
            ],
            options={
                'verbose_name': 'account territory',
                'db_table': 'routing_accountterritory',
                'indexes': [models.Index(fields=['territory', 'valid_to'], name='routing_acc_territo_5a5778_idx'), models.Index(condition=models.Q(('conflict', True), ('valid_to__isnull', True)), fields=['plan', 'conflict'], name='account_territory_conflicts'), models.Index(condition=models.Q(('routed_by__isnull', False)), fields=['routed_by'], name='account_territory_by')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_primary', True), ('valid_to__isnull', True)), fields=('account', 'plan'), name='one_current_primary_territory_per_account_plan'), models.UniqueConstraint(fields=('account', 'territory', 'valid_from'), name='account_territory_once_per_instant'), models.CheckConstraint(condition=models.Q(('credit_percent__gte', 0), ('credit_percent__lte', 100)), name='account_territory_credit_0_100'), models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='account_territory_valid_range')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
