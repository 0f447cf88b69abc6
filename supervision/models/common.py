"""Who may act as a supervisor on a supervision record (used by the state machines)."""

from accounts.policy import is_supervisor


def _is_supervisor(instance, user) -> bool:
    """The transitions' ``permission=``: accounts.policy decides who is a supervisor."""
    return is_supervisor(user)
