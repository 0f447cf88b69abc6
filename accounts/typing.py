# The class lives in core so core's views need not import accounts; kept here for the callers above.
from core.typing import AuthedHttpRequest

__all__ = ["AuthedHttpRequest"]
