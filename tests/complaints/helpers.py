"""Shared arrangement for complaint tests."""

from complaints.models import ConsentText
from complaints.services import complaint_submit

from ..factories import ListeningSessionFactory, UserFactory

VALID_ID = "11010519491231002X"
VALID_PHONE = "13812345678"
REAL_NAME = "张晓明"


def file_complaint(complainant=None, session=None, **overrides):
    complainant = complainant or UserFactory(roles=["complainant"])
    session = session or ListeningSessionFactory(complainant=complainant)
    data = {
        "complainant": complainant,
        "session": session,
        "content": "倾听师在通话中多次打断我，还说我想太多。",
        "demands": ["apology"],
        "real_name": REAL_NAME,
        "id_number": VALID_ID,
        "phone": VALID_PHONE,
        "consent_text": ConsentText.objects.get(is_current=True),
        "category": "professional_competence",
    }
    data.update(overrides)
    return complaint_submit(**data)
