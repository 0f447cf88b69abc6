from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_assign_role
from listeners.models import Channel, HoldEnd, ListenerHold, ListenerProfile, ListenerStatus, ListeningSession

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.cn")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        for role in extracted or ():
            user_assign_role(user=self, role=role)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "authenticator"
    confirmed = True


class ListenerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListenerProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=[Role.LISTENER])
    code = factory.Sequence(lambda n: f"L{n:05d}")
    display_name = factory.Sequence(lambda n: f"倾听师{n}")
    status = ListenerStatus.ACTIVE

    @factory.post_generation
    def hold(obj, create, extracted, **kwargs):
        """A restricted listener carries the hold that explains it (a supervisor's manual one), as
        the status is computed from holds."""
        if create and obj.status != ListenerStatus.ACTIVE:
            ListenerHold.objects.create(listener=obj, effect=obj.status, ends=HoldEnd.MANUAL, reason="测试数据")


class ListeningSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListeningSession

    order_no = factory.Sequence(lambda n: f"QS{n:08d}")
    complainant = factory.SubFactory(UserFactory, roles=[Role.COMPLAINANT])
    listener = factory.SubFactory(ListenerProfileFactory)
    channel = Channel.VOICE
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    duration_minutes = 50
    amount = Decimal("99.00")
