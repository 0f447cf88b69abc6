import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from accounts.roles import STAFF_ROLES, Role

from .factories import TOTPDeviceFactory, UserFactory


def totp_now(device) -> str:
    """The code an authenticator app would show right now for this device."""
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def load_reference_data() -> None:
    """What data migrations create (roles, consent text, crisis phrases): a transactional test's
    flush removes it, so it is put back before tests that need it."""
    from accounts.roles import roles_sync
    from complaints.defaults import defaults_load
    from core.defaults import policies_load
    from evaluations.defaults import grades_load
    from interviews.defaults import rubric_load
    from supervision.defaults import anomaly_rules_load

    roles_sync()
    defaults_load()
    policies_load()
    grades_load()
    rubric_load()
    anomaly_rules_load()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture(scope="session", autouse=True)
def _flush_may_truncate_append_only_tables():
    """A transactional test ends with a flush, which TRUNCATEs every table; the append-only ones
    refuse TRUNCATE unless their owner says so for that one transaction (core 0009_refuse_truncate)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        original(self, ["SET LOCAL hearken.allow_truncate = 'on'", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        request.getfixturevalue("transactional_db")
        load_reference_data()


@pytest.fixture(autouse=True)
def _default_language():
    # A request in English activates it for the thread; the next test starts in the site language.
    from django.utils import translation

    yield
    translation.deactivate()


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
