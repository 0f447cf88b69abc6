from django.core.management import call_command

from accounts.models import User
from listeners.models import ListenerProfile, ListeningSession


def test_seed_demo_is_idempotent_and_makes_one_user_per_role(db, capsys):
    call_command("seed_demo", "--force")
    counts = (User.objects.count(), ListenerProfile.objects.count(), ListeningSession.objects.count())
    call_command("seed_demo", "--force")

    assert (User.objects.count(), ListenerProfile.objects.count(), ListeningSession.objects.count()) == counts
    for role in ("complainant", "consultant", "reviewer", "listener", "supervisor"):
        assert User.objects.get(email=f"{role}@demo.hearken.cn").has_role(role)
    printed = capsys.readouterr().out
    assert "hearken-demo-2026" in printed
    assert "make otp" in printed


def test_seed_demo_refuses_to_run_without_debug(db):
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()
