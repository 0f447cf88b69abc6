"""Build a hold for every restricted listener from their history, so that the status computed
from holds equals the status each listener has now: nothing changes when this runs.

The hold's source is the change that gave the present status (a decision, an ethics case, an
interview) and it ends the way the new rules say for that source; a status with no recorded
cause becomes a supervisor's manual hold.
"""

from django.db import migrations

from accounts.roles import roles_sync

TASK_MEASURES = {"feedback", "continued_learning", "supervision_sessions", "personal_therapy"}
RESTORABLE = {"hidden", "suspended"}


def _case_ends(status, measures):
    if status == "delisted":
        return "never"
    chosen = set(measures or [])
    if status in RESTORABLE and (chosen & TASK_MEASURES or "competency_interview" in chosen):
        return "case_done"
    return "manual"


def build_holds(apps, schema_editor=None):
    ListenerProfile = apps.get_model("listeners", "ListenerProfile")
    ListenerHold = apps.get_model("listeners", "ListenerHold")
    ContentType = apps.get_model("contenttypes", "ContentType")
    models_by_label = {
        "evaluations.decision": apps.get_model("evaluations", "Decision"),
        "supervision.ethicscase": apps.get_model("supervision", "EthicsCase"),
        "interviews.competencyinterview": apps.get_model("interviews", "CompetencyInterview"),
    }
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    for listener in ListenerProfile.objects.exclude(status="active").iterator():
        if ListenerHold.objects.filter(listener=listener, released_at__isnull=True).exists():
            continue
        change = (
            listener.status_changes.filter(to_status=listener.status).order_by("-created_at", "-id").first()
        )
        hold = ListenerHold(
            listener=listener,
            effect=listener.status,
            ends="manual",
            reason=change.reason if change is not None else "入驻时的状态（由历史记录迁移）",
            placed_by_id=change.actor_id if change is not None else None,
        )
        if change is not None:
            hold.placed_at = change.created_at
            label = labels.get(change.source_type_id)
            model = models_by_label.get(label)
            source = model.objects.filter(pk=change.source_id).first() if model is not None else None
            if source is not None:
                hold.source_type_id, hold.source_id = change.source_type_id, change.source_id
                if label == "interviews.competencyinterview":
                    hold.ends = {"conditional": "plan_verified", "fail": "interview_passed"}.get(source.band, "manual")
                else:
                    hold.ends = _case_ends(listener.status, source.measures)
        hold.save()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("listeners", "0003_listener_holds"),
        ("evaluations", "0008_statement_shared_content"),
        ("interviews", "0008_audit_trail"),
        ("supervision", "0012_append_only_for_the_app_role"),
    ]

    operations = [
        migrations.RunPython(build_holds, migrations.RunPython.noop),
        migrations.RunPython(lambda apps, schema_editor: roles_sync(apps), migrations.RunPython.noop),
    ]
