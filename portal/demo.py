"""Demo data for `make run`: one user per role, a few listeners and sessions. Idempotent."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.roles import INTEGRATION_GROUP, STAFF_ROLES, Role
from accounts.services import user_assign_role
from listeners.holds import listener_set_status
from listeners.models import Channel, ListenerProfile, ListenerStatus, ListeningSession

DEMO_PASSWORD = "hearken-demo-2026"
DEMO_DOMAIN = "demo.hearken.cn"
# A fixed TOTP secret so a demo can be walked through from the README; never used outside demos.
DEMO_TOTP_KEY = binascii.hexlify(b"hearken-demo-totp-key").decode()


@dataclass
class DemoUser:
    role: str
    email: str
    backup_code: str | None = None


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_DOMAIN}"


@transaction.atomic
def seed_demo() -> list[DemoUser]:
    people: list[DemoUser] = []
    names = {
        Role.COMPLAINANT: "小林",
        Role.CONSULTANT: "顾问 陈",
        Role.REVIEWER: "专业组 王",
        Role.LISTENER: "倾听师 周",
        Role.SUPERVISOR: "督导 李",
    }
    users: dict[str, User] = {}
    for role, name in names.items():
        user = _user(demo_email(role), name)
        user_assign_role(user=user, role=role)
        users[role] = user
        backup = None
        if role in STAFF_ROLES:
            backup = _demo_second_factor(user)
        people.append(DemoUser(role=role, email=user.email, backup_code=backup))

    integration = _user(f"platform@{DEMO_DOMAIN}", "主平台对接")
    user_assign_role(user=integration, role=INTEGRATION_GROUP)
    Token.objects.get_or_create(user=integration)

    listeners = [
        _listener(users[Role.LISTENER], "L0001", "倾听师 周", ListenerStatus.ACTIVE),
        _listener(_user(f"listener2@{DEMO_DOMAIN}", "倾听师 吴"), "L0002", "倾听师 吴", ListenerStatus.ACTIVE),
        _listener(_user(f"listener3@{DEMO_DOMAIN}", "倾听师 郑"), "L0003", "倾听师 郑", ListenerStatus.INTERNSHIP),
    ]
    for extra in listeners[1:]:
        user_assign_role(user=extra.user, role=Role.LISTENER)
    now = timezone.now()
    for i in range(6):
        listener = listeners[i % len(listeners)]
        ListeningSession.objects.update_or_create(
            order_no=f"QS-DEMO-{i + 1:04d}",
            defaults={
                "complainant": users[Role.COMPLAINANT],
                "listener": listener,
                "channel": Channel.VOICE if i % 3 else Channel.TEXT,
                "started_at": now - timedelta(days=i + 1, hours=i),
                "duration_minutes": 30 + 10 * i,
                "amount": Decimal("49.00") + i * 10,
                "rating": [5, 4, 2, 1, 3, None][i],
            },
        )
    return people


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, display_name=name)
    return user


def _listener(user: User, code: str, name: str, status: str) -> ListenerProfile:
    profile, created = ListenerProfile.objects.get_or_create(
        code=code,
        defaults={"user": user, "display_name": name, "status": ListenerStatus.ACTIVE, "certificate_verified": True},
    )
    if created and status != ListenerStatus.ACTIVE:
        # The status follows from holds: a new listener's internship is a supervisor's hold.
        listener_set_status(listener=profile, status=status, reason="新入驻，实习期", actor=None)
    return profile


def _demo_second_factor(user: User) -> str:
    TOTPDevice.objects.update_or_create(
        user=user, name="demo authenticator", defaults={"key": DEMO_TOTP_KEY, "confirmed": True}
    )
    static, _ = StaticDevice.objects.get_or_create(user=user, name="demo backup")
    code = f"demo{user.pk:04d}"
    if not static.token_set.filter(token=code).exists():
        StaticToken.objects.create(device=static, token=code)
    return code
