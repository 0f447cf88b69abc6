"""The complainant answers the professional group's questions on their own page."""

from complaints.services import complaint_add_note
from evaluations.models import InformationRequest, Party
from evaluations.services import information_request_create

from ..conftest import signed_in_client
from ..factories import UserFactory
from .helpers import escalated_case


def test_the_complainant_sees_and_answers_a_question(db):
    complaint, lead = escalated_case()
    question = information_request_create(
        complaint=complaint, actor=lead, party=Party.COMPLAINANT, question="通话大约在几点？"
    )
    client = signed_in_client(complaint.complainant)
    url = f"/complaints/{complaint.reference}/questions/"

    page = client.get(url).content.decode()
    response = client.post(url, {"question": question.pk, f"q{question.pk}-answer": "晚上九点左右"}, follow=True)

    assert "通话大约在几点？" in page
    assert "晚上九点左右" in response.content.decode()
    assert InformationRequest.objects.get(pk=question.pk).answer == "晚上九点左右"


def test_an_empty_answer_is_refused_next_to_the_field(db):
    complaint, lead = escalated_case()
    question = information_request_create(
        complaint=complaint, actor=lead, party=Party.COMPLAINANT, question="还有证据吗？"
    )

    response = signed_in_client(complaint.complainant).post(
        f"/complaints/{complaint.reference}/questions/", {"question": question.pk, f"q{question.pk}-answer": ""}
    )

    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert InformationRequest.objects.get(pk=question.pk).answered_at is None


def test_questions_for_the_listener_and_other_peoples_cases_stay_hidden(db):
    complaint, lead = escalated_case()
    information_request_create(complaint=complaint, actor=lead, party=Party.LISTENER, question="你当时怎么想的？")
    complaint_add_note(complaint=complaint, actor=lead, note="内部", visible=False)

    mine = signed_in_client(complaint.complainant).get(f"/complaints/{complaint.reference}/questions/")
    stranger = signed_in_client(UserFactory(roles=["complainant"])).get(f"/complaints/{complaint.reference}/questions/")

    assert "你当时怎么想的" not in mine.content.decode()
    assert stranger.status_code == 404


def test_a_tampered_question_id_changes_nothing_and_is_not_an_error(db):
    complaint, lead = escalated_case()
    information_request_create(complaint=complaint, actor=lead, party="complainant", question="几点开始的？")

    response = signed_in_client(complaint.complainant).post(
        f"/complaints/{complaint.reference}/questions/", {"question": "abc", "q0-answer": "x"}
    )

    assert response.status_code < 500
    assert InformationRequest.objects.get().answered_at is None
