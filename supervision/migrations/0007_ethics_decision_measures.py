import django.contrib.postgres.fields
from django.db import migrations, models


def keep_old_measures_off_the_portal(apps, schema_editor):
    """The old free-text measures were staff notes, never written for the listener: move each to a
    note on the case's history and leave the text to the listener empty."""
    EthicsCase = apps.get_model("supervision", "EthicsCase")
    EthicsCaseEvent = apps.get_model("supervision", "EthicsCaseEvent")
    for case in EthicsCase.objects.exclude(text_to_listener="").only("pk", "text_to_listener", "decided_at"):
        EthicsCaseEvent.objects.create(
            case_id=case.pk, kind="note", note="处理措施（旧记录）：" + case.text_to_listener
        )
    EthicsCase.objects.exclude(text_to_listener="").update(text_to_listener="")


class Migration(migrations.Migration):
    """Ethics cases decide with the shared Measure list. The old free-text measures were staff notes:
    they move to the case history, so they never reach the listener's portal."""

    dependencies = [
        ("supervision", "0006_default_anomaly_rules"),
    ]

    operations = [
        migrations.RenameField(model_name="ethicscase", old_name="measures", new_name="text_to_listener"),
        migrations.AlterField(
            model_name="ethicscase",
            name="text_to_listener",
            field=models.TextField(blank=True, verbose_name="给倾听师的说明"),
        ),
        migrations.AddField(
            model_name="ethicscase",
            name="measures",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("feedback", "书面反馈"),
                        ("continued_learning", "继续学习"),
                        ("supervision_sessions", "接受督导"),
                        ("personal_therapy", "个人体验（个人咨询）"),
                        ("hide_profile", "隐藏主页"),
                        ("suspend_orders", "暂停接单"),
                        ("return_to_internship", "退回实习"),
                        ("competency_interview", "胜任力考核面试"),
                        ("delist", "清退"),
                        ("report_to_authorities", "依法报告有关部门"),
                    ],
                    max_length=32,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="处理措施",
            ),
        ),
        migrations.AddField(
            model_name="ethicscase",
            name="adjustment_reason",
            field=models.TextField(blank=True, verbose_name="调整理由"),
        ),
        migrations.RunPython(keep_old_measures_off_the_portal, migrations.RunPython.noop),
    ]
