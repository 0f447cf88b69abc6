"""The outcome card on the complainant's page, the review-request form, and the staff pages where
an uninvolved reviewer takes and decides a review request."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from evaluations.models import ReviewRequest, ReviewRequestState
from evaluations.services import review_request_assign, review_request_file, review_request_resolve

from ..conftest import signed_in_client
from ..factories import UserFactory
from .helpers import escalated_case
from .outcome_helpers import TEXT_TO_COMPLAINANT, closed_decided_case, rejected_case

pytestmark = pytest.mark.django_db

REASONS = "我认为评估没有考虑到倾听师挂断电话前说的话，希望重新看一下。"


def detail(complaint, client=None):
    client = client or signed_in_client(complaint.complainant)
    return client.get(f"/complaints/{complaint.reference}/").content.decode()


def test_the_card_says_what_was_found_and_each_remedy_in_plain_words():
    complaint, *_ = closed_decided_case()

    page = detail(complaint)

    assert 'data-testid="outcome-card"' in page
    assert "经专业组核实，您反映的情况属实。" in page
    assert "没有明显的不足" in page  # outcome A, in words
    assert TEXT_TO_COMPLAINANT in page
    assert "道歉" in page and "部分退款（40.00 元）" in page
    assert "申请复核" in page


def test_the_card_keeps_internal_findings_scores_and_people_out():
    complaint, decision, lead, approver = closed_decided_case()
    evaluation = decision.evaluation

    page = detail(complaint)

    internal = [
        evaluation.facts_rationale,
        evaluation.outcome_rationale,
        evaluation.awareness_rationale,
        evaluation.get_awareness_display(),
        decision.text_to_listener,
        decision.grade.name,
        "0 级",
        complaint.listener.display_name,
        complaint.listener.code,
        str(lead),
        str(approver),
    ]
    assert [text for text in internal if text in page] == []


def test_the_card_costs_the_page_three_queries_at_most(django_assert_max_num_queries):
    complaint, *_ = closed_decided_case()
    client = signed_in_client(complaint.complainant)
    detail(complaint, client)

    # The page alone takes nine (session, user, roles, complaint, merges, badge, files, timeline).
    with django_assert_max_num_queries(12):
        page = detail(complaint, client)

    assert 'data-testid="outcome-card"' in page


def test_an_open_complaint_shows_no_card():
    complaint, _lead = escalated_case()

    assert 'data-testid="outcome-card"' not in detail(complaint)


def test_the_review_button_shows_only_while_the_window_is_open():
    complaint, *_ = closed_decided_case()
    path = f"/complaints/{complaint.reference}/review-request/"
    client = signed_in_client(complaint.complainant)

    assert path in detail(complaint, client)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        client = signed_in_client(complaint.complainant)  # the earlier session has expired by then
        page = detail(complaint, client)
        form = client.get(path).content.decode()

    assert path not in page and "申请复核的期限已于" in page
    assert "<textarea" not in form and "申请复核的期限已于" in form


def test_a_rejected_complaint_shows_its_reason_and_the_review_button():
    complaint, _consultant = rejected_case(reason="该订单为文字倾诉，不在受理范围内。")

    page = detail(complaint)

    assert "为什么暂不受理" in page and "该订单为文字倾诉，不在受理范围内。" in page
    assert f"/complaints/{complaint.reference}/review-request/" in page


def test_the_complainant_files_from_the_form_and_the_card_then_shows_it_pending():
    complaint, *_ = closed_decided_case()
    client = signed_in_client(complaint.complainant)

    response = client.post(f"/complaints/{complaint.reference}/review-request/", {"reasons": REASONS})

    assert response.status_code == 302
    assert ReviewRequest.objects.get(complaint=complaint).reasons == REASONS
    page = detail(complaint, client)
    assert "正在由未参与原处理的工作人员复核" in page
    assert f"/complaints/{complaint.reference}/review-request/" not in page


def test_too_short_reasons_come_back_with_the_error_and_the_text_kept():
    complaint, *_ = closed_decided_case()
    client = signed_in_client(complaint.complainant)

    response = client.post(f"/complaints/{complaint.reference}/review-request/", {"reasons": "不满意"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "至少 10 个字" in page and "不满意</textarea>" in page
    assert not ReviewRequest.objects.exists()


def test_another_complainant_cannot_reach_the_form():
    complaint, *_ = closed_decided_case()
    stranger = signed_in_client(UserFactory(roles=["complainant"]))

    response = stranger.post(f"/complaints/{complaint.reference}/review-request/", {"reasons": REASONS})

    assert response.status_code == 404
    assert not ReviewRequest.objects.exists()


def test_the_result_shows_on_the_card():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    handler = UserFactory(roles=["reviewer"])
    review_request_assign(review_request=request, actor=handler)
    review_request_resolve(review_request=request, actor=handler, outcome="upheld", note="复核后认为原结论符合录音。")

    page = detail(complaint)

    assert "复核结论：维持原结论" in page and "复核后认为原结论符合录音。" in page
    assert str(handler) not in page


def test_the_staff_list_shows_no_reasons_and_refuses_an_involved_reviewer_with_a_clear_message():
    complaint, _decision, lead, _approver = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    client = signed_in_client(lead)

    listing = client.get("/review/review-requests/").content.decode()
    response = client.post(f"/review/review-requests/{request.pk}/assign/", follow=True)

    assert complaint.reference in listing and REASONS not in listing
    assert "您参与过这件投诉的原处理，不能复核它。" in listing
    assert "参与过这件投诉的原处理" in response.content.decode()
    assert ReviewRequest.objects.get(pk=request.pk).handler is None


def test_an_uninvolved_reviewer_takes_reads_and_decides_it():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    reviewer = UserFactory(roles=["reviewer"])
    client = signed_in_client(reviewer)

    taken = client.post(f"/review/review-requests/{request.pk}/assign/")
    page = client.get(f"/review/review-requests/{request.pk}/").content.decode()
    incomplete = client.post(f"/review/review-requests/{request.pk}/", {"outcome": "changed", "outcome_note": "成立。"})
    decided = client.post(
        f"/review/review-requests/{request.pk}/",
        {"outcome": "changed", "outcome_note": "部分理由成立。", "changes": "增加书面解释。"},
    )

    assert taken.status_code == 302 and taken["Location"] == f"/review/review-requests/{request.pk}/"
    assert REASONS in page and TEXT_TO_COMPLAINANT in page
    assert incomplete.status_code == 400 and "请写明变更的内容" in incomplete.content.decode()
    assert decided.status_code == 302
    assert ReviewRequest.objects.get(pk=request.pk).state == ReviewRequestState.CHANGED


def test_another_reviewer_cannot_open_a_request_that_is_not_theirs():
    complaint, *_ = closed_decided_case()
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    review_request_assign(review_request=request, actor=UserFactory(roles=["reviewer"]))

    response = signed_in_client(UserFactory(roles=["reviewer"])).get(f"/review/review-requests/{request.pk}/")

    assert response.status_code == 404


def test_a_reviewer_reads_a_rejected_complaints_reason_beside_the_request():
    complaint, _consultant = rejected_case(reason="该订单为文字倾诉，不在受理范围内。")
    request = review_request_file(complaint=complaint, actor=complaint.complainant, reasons=REASONS)
    reviewer = UserFactory(roles=["reviewer"])
    review_request_assign(review_request=request, actor=reviewer)

    response = signed_in_client(reviewer).get(f"/review/review-requests/{request.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert REASONS in page and "该订单为文字倾诉，不在受理范围内。" in page
