# Turns the plain state columns of tasks and appeals into django-fsm fields: no SQL, the column stays a varchar(16).

import django_fsm
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evaluations', '0008_statement_shared_content'),
    ]

    operations = [
        migrations.AlterField(
            model_name='appeal',
            name='state',
            field=django_fsm.FSMField(choices=[('submitted', '已提交'), ('reviewing', '复核中'), ('confirmed', '维持原决定'), ('changed', '变更决定'), ('annulled', '撤销决定')], default='submitted', max_length=16, verbose_name='状态'),
        ),
        migrations.AlterField(
            model_name='listenertask',
            name='state',
            field=django_fsm.FSMField(choices=[('open', '待完成'), ('submitted', '已提交，待核实'), ('verified', '已核实'), ('cancelled', '已取消')], default='open', max_length=16, verbose_name='状态'),
        ),
    ]
