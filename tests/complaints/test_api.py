"""The complaints API: who reaches what, how it moves a case, and that identity never leaves it in clear."""

import json
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import Role
from complaints import api_urls
from complaints.models import Complaint, ComplaintState, ConsentText, TimelineEvent
from complaints.services import complaint_escalate, complaint_resolve, complaint_start_triage, complaint_submit

from ..conftest import signed_in_client
from ..factories import ListeningSessionFactory, UserFactory

REAL_NAME = "王晓明"
VALID_ID = "11010519491231002X"
VALID_PHONE = "13812345678"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

CALLERS = ["anonymous", "owner", "other_complainant", "listener", "consultant", "reviewer", "supervisor"]


# --- arrangement helpers -------------------------------------------------------------


def file_complaint(complainant, session=None, **overrides) -> Complaint:
    data = {
        "complainant": complainant,
        "session": session or ListeningSessionFactory(complainant=complainant),
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


def payload(session, **overrides) -> dict:
    data = {
        "order_no": session.order_no,
        "category": "call_quality",
        "content": "通话中声音断断续续，后半段完全听不清。",
        "demands": ["refund"],
        "demands_other": "",
        "real_name": REAL_NAME,
        "id_number": VALID_ID,
        "phone": VALID_PHONE,
        "consent": True,
        "consent_version": ConsentText.objects.get(is_current=True).version,
    }
    data.update(overrides)
    return data


def caller(kind: str, owner) -> Client:
    if kind == "anonymous":
        return Client()
    if kind == "owner":
        return signed_in_client(owner)
    if kind == "other_complainant":
        return signed_in_client(UserFactory(roles=[Role.COMPLAINANT]))
    return signed_in_client(UserFactory(roles=[kind]))


def post_json(client: Client, url: str, data: dict, **headers):
    return client.post(url, data=data, content_type="application/json", headers=headers)


def list_url() -> str:
    return reverse("api:complaint-list")


def detail_url(complaint: Complaint) -> str:
    return reverse("api:complaint-detail", args=[complaint.reference])


def timeline_url(complaint: Complaint) -> str:
    return reverse("api:complaint-timeline", args=[complaint.reference])


def attachments_url(complaint: Complaint) -> str:
    return reverse("api:complaint-attachments", args=[complaint.reference])


def transition_url(complaint: Complaint, name: str) -> str:
    return reverse("api:complaint-transition", args=[complaint.reference, name])


@pytest.fixture
def owner(db):
    return UserFactory(roles=[Role.COMPLAINANT])


@pytest.fixture
def complaint(owner):
    return file_complaint(owner)


@pytest.fixture
def consultant(db):
    return UserFactory(roles=[Role.CONSULTANT])


@pytest.fixture
def supervisor(db):
    return UserFactory(roles=[Role.SUPERVISOR])


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- filing a complaint ----------------------------------------------------------------


def test_a_complainant_files_a_complaint_about_their_own_session_and_gets_201_with_a_reference(owner):
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(signed_in_client(owner), list_url(), payload(session))

    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"TS-\d{4}-\d{6}", body["reference"])
    assert body["state"] == ComplaintState.SUBMITTED
    assert body["order_no"] == session.order_no
    assert body["masked_phone"] == "138****5678"
    stored = Complaint.objects.get(reference=body["reference"])
    assert (stored.complainant, stored.session, stored.intake_channel) == (owner, session, "api")
    assert (stored.real_name, stored.id_number, stored.phone) == (REAL_NAME, VALID_ID, VALID_PHONE)


def test_an_id_number_with_a_wrong_check_digit_is_a_400_with_a_chinese_message_on_that_field(owner):
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(signed_in_client(owner), list_url(), payload(session, id_number="110105194912310021"))

    assert response.status_code == 400
    assert "校验位不正确" in response.json()["id_number"][0]
    assert not Complaint.objects.exists()


def test_an_order_number_of_another_users_session_is_a_400_on_order_no(owner):
    someone_elses = ListeningSessionFactory()

    response = post_json(signed_in_client(owner), list_url(), payload(someone_elses))

    assert response.status_code == 400
    assert "订单号" in response.json()["order_no"][0]
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("consent", [False, None], ids=["unticked", "missing"])
def test_filing_without_consent_is_a_400_on_consent(owner, consent):
    session = ListeningSessionFactory(complainant=owner)
    data = payload(session, consent=consent)
    if consent is None:
        del data["consent"]

    response = post_json(signed_in_client(owner), list_url(), data)

    assert response.status_code == 400
    assert "consent" in response.json()
    assert not Complaint.objects.exists()


def test_consent_given_to_an_older_version_of_the_text_is_a_400_saying_it_was_updated(owner):
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(signed_in_client(owner), list_url(), payload(session, consent_version="2019.1"))

    assert response.status_code == 400
    assert "同意书已更新" in response.json()["consent_version"][0]


def test_repeating_a_post_with_the_same_idempotency_key_returns_the_same_complaint_and_stores_one(owner):
    session = ListeningSessionFactory(complainant=owner)
    client, key = signed_in_client(owner), str(uuid.uuid4())

    first = post_json(client, list_url(), payload(session), **{"Idempotency-Key": key})
    again = post_json(client, list_url(), payload(session), **{"Idempotency-Key": key})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert Complaint.objects.count() == 1
    assert str(Complaint.objects.get().submission_key) == key


def test_an_idempotency_key_that_is_not_a_uuid_is_a_400(owner):
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(signed_in_client(owner), list_url(), payload(session), **{"Idempotency-Key": "twice"})

    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_an_idempotency_key_already_used_by_another_complainant_is_a_409_and_reveals_nothing(owner, complaint):
    key = uuid.uuid4()
    first_user = UserFactory(roles=[Role.COMPLAINANT])
    file_complaint(first_user, submission_key=key)
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(signed_in_client(owner), list_url(), payload(session), **{"Idempotency-Key": str(key)})

    assert response.status_code == 409
    assert "reference" not in response.json()


# --- permission matrix -------------------------------------------------------------------

READ_ENDPOINTS = {"detail": detail_url, "timeline": timeline_url, "attachments": attachments_url}
READ_EXPECTED = {
    "anonymous": 403,
    "owner": 200,
    "other_complainant": 404,
    "listener": 403,
    "consultant": 200,
    "reviewer": 404,  # a reviewer not on the case: not theirs to know of
    "supervisor": 200,
}
LIST_EXPECTED = {**READ_EXPECTED, "other_complainant": 200, "reviewer": 200}
# Filing with the owner's order: only the owner may; another complainant is told the order is not theirs.
CREATE_EXPECTED = {
    "anonymous": 403,
    "owner": 201,
    "other_complainant": 400,
    "listener": 403,
    "consultant": 403,
    "reviewer": 403,
    "supervisor": 403,
}
TRIAGE_EXPECTED = {**READ_EXPECTED, "owner": 403}


@pytest.mark.parametrize(("kind", "expected"), LIST_EXPECTED.items())
def test_the_list_is_open_to_complainants_and_verified_staff_only(complaint, owner, kind, expected):
    response = caller(kind, owner).get(list_url())

    assert response.status_code == expected
    if expected == 200:
        references = [c["reference"] for c in response.json()["results"]]
        assert (complaint.reference in references) == (kind not in ("other_complainant", "reviewer"))


@pytest.mark.parametrize(("kind", "expected"), CREATE_EXPECTED.items())
def test_only_complainants_may_file_and_only_about_their_own_sessions(owner, kind, expected):
    session = ListeningSessionFactory(complainant=owner)

    response = post_json(caller(kind, owner), list_url(), payload(session))

    assert response.status_code == expected
    assert Complaint.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("kind", "expected"), READ_EXPECTED.items())
@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_reading_one_complaint_is_for_its_complainant_and_staff(complaint, owner, endpoint, kind, expected):
    response = caller(kind, owner).get(READ_ENDPOINTS[endpoint](complaint))

    assert response.status_code == expected


@pytest.mark.parametrize(("kind", "expected"), TRIAGE_EXPECTED.items())
def test_starting_triage_is_for_consultants_and_supervisors(complaint, owner, kind, expected):
    response = post_json(caller(kind, owner), transition_url(complaint, "start_triage"), {})

    assert response.status_code == expected
    complaint.refresh_from_db()
    assert complaint.state == (ComplaintState.TRIAGE if expected == 200 else ComplaintState.SUBMITTED)


@pytest.mark.parametrize(("kind", "expected"), [("consultant", 403), ("reviewer", 404), ("supervisor", 403)])
def test_only_the_complainant_may_withdraw(complaint, owner, kind, expected):
    response = post_json(caller(kind, owner), transition_url(complaint, "withdraw"), {"reason": "不想继续了"})

    assert response.status_code == expected
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.SUBMITTED


def test_another_complainants_reference_is_a_404_everywhere_never_a_403(complaint):
    stranger = signed_in_client(UserFactory(roles=[Role.COMPLAINANT]))

    statuses = [
        stranger.get(detail_url(complaint)).status_code,
        stranger.get(timeline_url(complaint)).status_code,
        stranger.get(attachments_url(complaint)).status_code,
        post_json(stranger, transition_url(complaint, "withdraw"), {}).status_code,
    ]

    assert statuses == [404, 404, 404, 404]


def test_staff_who_have_not_passed_the_second_factor_are_refused(complaint):
    unverified = signed_in_client(UserFactory(roles=[Role.SUPERVISOR]), verified=False)

    assert unverified.get(list_url()).status_code == 403


def test_a_staff_token_is_refused_because_it_carries_no_second_factor_but_a_complainants_works(complaint, owner):
    staff_api, owner_api = APIClient(), APIClient()
    staff_api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory(roles=['supervisor']))}")
    owner_api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner)}")

    assert staff_api.get(list_url()).status_code == 403
    assert owner_api.get(detail_url(complaint)).status_code == 200


# --- transitions ---------------------------------------------------------------------------


def test_a_consultant_starts_triage_and_gets_the_moved_complaint_back(complaint, consultant):
    response = post_json(signed_in_client(consultant), transition_url(complaint, "start_triage"), {"version": 1})

    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["version"]) == (ComplaintState.TRIAGE, 2)
    assert body["assigned_consultant"]["id"] == consultant.pk


def test_a_move_made_on_a_stale_version_is_a_409_with_the_services_message(complaint, consultant, supervisor):
    complaint_start_triage(complaint=complaint, actor=supervisor)

    response = post_json(
        signed_in_client(consultant), transition_url(complaint, "reject"), {"reason": "重复投诉", "version": 1}
    )

    assert response.status_code == 409
    assert "其他人修改" in response.json()["detail"]
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.TRIAGE


def test_resolving_a_complaint_that_is_not_in_triage_is_a_409(complaint, consultant):
    response = post_json(
        signed_in_client(consultant), transition_url(complaint, "resolve_directly"), {"resolution": "已退款"}
    )

    assert response.status_code == 409
    assert "当前状态" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [("resolve_directly", "resolution", "  "), ("reject", "reason", ""), ("escalate", "reviewer", None)],
)
def test_a_move_without_its_required_input_is_a_400_on_that_field(complaint, consultant, name, field, value):
    complaint_start_triage(complaint=complaint, actor=consultant)

    response = post_json(signed_in_client(consultant), transition_url(complaint, name), {field: value})

    assert response.status_code == 400
    assert field in response.json()
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.TRIAGE


def test_a_move_the_caller_may_not_make_is_a_403_even_when_its_input_is_missing(complaint, consultant):
    complaint_start_triage(complaint=complaint, actor=consultant)
    reviewer = UserFactory(roles=[Role.REVIEWER])
    Complaint.objects.filter(pk=complaint.pk).update(assigned_reviewer=reviewer)  # on the case, so it sees it

    response = post_json(signed_in_client(reviewer), transition_url(complaint, "reject"), {"reason": ""})

    assert response.status_code == 403


def test_escalating_to_someone_outside_the_professional_group_is_a_400(complaint, consultant):
    complaint_start_triage(complaint=complaint, actor=consultant)

    response = post_json(
        signed_in_client(consultant), transition_url(complaint, "escalate"), {"reviewer": consultant.pk}
    )

    assert response.status_code == 400
    assert "专业组" in response.json()["reviewer"][0]


def test_a_consultant_escalates_to_a_named_reviewer(complaint, consultant):
    reviewer = UserFactory(roles=[Role.REVIEWER])
    complaint_start_triage(complaint=complaint, actor=consultant)

    response = post_json(
        signed_in_client(consultant), transition_url(complaint, "escalate"), {"reviewer": reviewer.pk, "version": 2}
    )

    assert response.status_code == 200
    assert response.json()["state"] == ComplaintState.INVESTIGATION
    assert response.json()["assigned_reviewer"]["id"] == reviewer.pk


def test_a_resolved_complaint_is_closed_and_then_archived(complaint, consultant):
    complaint_start_triage(complaint=complaint, actor=consultant)
    complaint_resolve(complaint=complaint, actor=consultant, resolution="已核实通话问题并退款。")
    client = signed_in_client(consultant)

    closed = post_json(client, transition_url(complaint, "close"), {"note": "投诉人已确认"})
    archived = post_json(client, transition_url(complaint, "archive"), {})

    assert (closed.status_code, archived.status_code) == (200, 200)
    assert archived.json()["state"] == ComplaintState.ARCHIVED


def test_the_complainant_withdraws_and_sees_their_own_view_of_the_case(complaint, owner):
    response = post_json(signed_in_client(owner), transition_url(complaint, "withdraw"), {"reason": "已和倾听师沟通"})

    assert response.status_code == 200
    assert response.json()["state"] == ComplaintState.WITHDRAWN
    assert "assigned_consultant" not in response.json()


def test_an_unknown_transition_name_is_a_404(complaint, consultant):
    response = post_json(signed_in_client(consultant), transition_url(complaint, "delete"), {})

    assert response.status_code == 404


# --- what each role sees -----------------------------------------------------------------


def test_complainants_see_only_the_timeline_events_meant_for_them_and_staff_see_all(owner, supervisor):
    first = file_complaint(owner)
    duplicate = file_complaint(owner, session=first.session)  # flagged by an internal event
    hidden = TimelineEvent.objects.filter(complaint=duplicate, visible_to_complainant=False)
    assert hidden.exists()

    mine = signed_in_client(owner).get(timeline_url(duplicate)).json()
    staffs = signed_in_client(supervisor).get(timeline_url(duplicate)).json()

    assert [e["id"] for e in mine] == list(
        TimelineEvent.objects.filter(complaint=duplicate, visible_to_complainant=True).values_list("id", flat=True)
    )
    assert {e["id"] for e in staffs} == set(
        TimelineEvent.objects.filter(complaint=duplicate).values_list("id", flat=True)
    )
    assert all("actor" not in e and "visible_to_complainant" not in e for e in mine)
    assert any(not e["visible_to_complainant"] for e in staffs)


def test_complainants_do_not_see_internal_triage_signals_and_cannot_filter_on_them(owner):
    file_complaint(owner, content="我真的不想活了")
    file_complaint(owner)

    response = signed_in_client(owner).get(list_url(), {"crisis": "true", "priority": 4})

    results = response.json()["results"]
    assert len(results) == 2
    assert all("crisis" not in c and "priority" not in c for c in results)


def test_staff_filter_by_crisis_and_state_and_order_by_priority(owner, supervisor):
    crisis = file_complaint(owner, content="我真的不想活了")
    calm = file_complaint(owner)
    complaint_start_triage(complaint=calm, actor=supervisor)
    client = signed_in_client(supervisor)

    flagged = client.get(list_url(), {"crisis": "true"}).json()["results"]
    in_triage = client.get(list_url(), {"state": "triage"}).json()["results"]
    by_priority = client.get(list_url(), {"ordering": "-priority"}).json()["results"]

    assert [c["reference"] for c in flagged] == [crisis.reference]
    assert [c["reference"] for c in in_triage] == [calm.reference]
    assert [c["reference"] for c in by_priority] == [crisis.reference, calm.reference]


def test_the_list_is_paginated(owner):
    for _ in range(3):
        file_complaint(owner)

    body = signed_in_client(owner).get(list_url(), {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_attachments_are_listed_by_public_id_with_a_download_link_for_those_allowed(owner, supervisor, media_root):
    complaint = file_complaint(owner, files=[SimpleUploadedFile("聊天截图.png", PNG, content_type="image/png")])
    attachment = complaint.attachments.get()
    unassigned_consultant = UserFactory(roles=[Role.CONSULTANT])

    own = signed_in_client(owner).get(attachments_url(complaint)).json()
    supervised = signed_in_client(supervisor).get(attachments_url(complaint)).json()
    not_assigned = signed_in_client(unassigned_consultant).get(attachments_url(complaint)).json()

    assert own == supervised
    assert own == [
        {
            "id": str(attachment.public_id),
            "complaint": complaint.reference,
            "original_name": "聊天截图.png",
            "content_type": "image/png",
            "size": len(PNG),
            "created_at": own[0]["created_at"],
            "download_url": f"/complaints/attachments/{attachment.public_id}/",
        }
    ]
    assert not_assigned == []


@pytest.mark.parametrize("role", [Role.COMPLAINANT, Role.SUPERVISOR])
def test_the_list_makes_as_many_queries_for_30_complaints_as_for_3(owner, django_assert_max_num_queries, role):
    consultant = UserFactory(roles=[Role.CONSULTANT])
    reader = owner if role == Role.COMPLAINANT else UserFactory(roles=[role])
    client = signed_in_client(reader)

    def add(n: int) -> None:
        for i in range(n):
            filed = file_complaint(owner)
            if i % 3 == 1:
                complaint_start_triage(complaint=filed, actor=consultant)
                # A fresh reviewer each time: one who handled this complainant before is refused.
                complaint_escalate(complaint=filed, actor=consultant, reviewer=UserFactory(roles=[Role.REVIEWER]))
            if i % 3 == 2:
                file_complaint(owner, session=filed.session)  # a duplicate, linked to ``filed``

    add(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(list_url(), {"page_size": 100}).status_code == 200
    add(27)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url(), {"page_size": 100})

    assert response.json()["count"] > 30


def test_no_response_ever_carries_the_name_id_number_or_phone_in_clear(owner, consultant, supervisor, media_root):
    session = ListeningSessionFactory(complainant=owner)
    created = post_json(signed_in_client(owner), list_url(), payload(session))
    complaint = Complaint.objects.get(reference=created.json()["reference"])
    file_complaint(owner, files=[SimpleUploadedFile("a.png", PNG, content_type="image/png")])
    responses = [created]
    for user in (owner, consultant, supervisor):
        client = signed_in_client(user)
        responses += [
            client.get(list_url()),
            client.get(detail_url(complaint)),
            client.get(timeline_url(complaint)),
            client.get(attachments_url(complaint)),
        ]
    responses.append(post_json(signed_in_client(consultant), transition_url(complaint, "start_triage"), {}))
    responses.append(post_json(signed_in_client(owner), transition_url(complaint, "withdraw"), {}))

    assert all(r.status_code in (200, 201) for r in responses)
    for response in responses:
        raw = response.content.decode()
        text = raw + json.dumps(response.json(), ensure_ascii=False)
        for secret in (REAL_NAME, VALID_ID, VALID_PHONE):
            assert secret not in text
        for field in ('"real_name"', '"id_number"', '"phone"'):
            assert field not in raw


# --- schema ----------------------------------------------------------------------------------


def test_the_schema_endpoint_answers_a_verified_staff_member(supervisor):
    response = signed_in_client(supervisor).get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/complaints/{reference}/transitions/{name}/" in response.content


def test_the_complaints_api_schema_generates_without_warnings_or_errors(db):
    GENERATOR_STATS.reset()

    schema = SchemaGenerator(patterns=api_urls.urlpatterns).get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
