"""The time limits the steps share (DOMAIN §3: appeals, reopening, answers to questions)."""

from __future__ import annotations

LISTENER_APPEAL_DAYS = 7
COMPLAINANT_REOPEN_DAYS = 14
INFORMATION_REQUEST_DAYS = 3
