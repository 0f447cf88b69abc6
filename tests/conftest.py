import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from accounts.roles import STAFF_ROLES, Role

from .factories import TOTPDeviceFactory, UserFactory


def totp_now(device) -> str:
    """The code an authenticator app would show right now for this device."""
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # A reused database may have been flushed by a transactional test of an earlier run;
    # the roles that data migrations create are put back before any test runs.
    from accounts.roles import roles_sync

    with django_db_blocker.unblock():
        roles_sync()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Axes counters and cached data live in Redis; each test starts clean.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    def make(*roles: str, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


def signed_in_client(user, *, verified: bool = True) -> Client:
    """A client signed in as ``user``; staff also pass the second factor unless told not to."""
    client = Client()
    client.force_login(user)
    if verified and user.is_case_staff:
        device = TOTPDeviceFactory(user=user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for(make_user):
    """client_for("consultant") -> (client, user): a signed-in client for one role."""

    def make(role: str | None, *, verified: bool = True):
        if role is None:
            return Client(), None
        user = make_user(role)
        return signed_in_client(user, verified=verified), user

    return make


ALL_ROLES = [r.value for r in Role]
STAFF = sorted(r.value for r in STAFF_ROLES)
