"""The access matrix, generated from the URLconf: every URL pattern (admin and API included) is
requested by every kind of person, its path filled with objects that belong to complainant 1,
listener 1 and the reviewer on the case (see ``world.py``).

``ALLOWED`` says, for each URL, who may get it; everyone else must be refused (a sign-in or
second-factor redirect, 403 or 404, or 405 for a method the view does not take). A pattern with
no entry fails the test, so a new URL cannot slip past. Staff who have not passed the second
factor are refused everything outside the sign-in pages. And every HTML page a signed-in person
gets says ``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from accounts.middleware import _OPEN_PREFIXES

from ..conftest import signed_in_client
from .world import build_world

ANON, C1, C2, L1, L2 = "anon", "c1", "c2", "l1", "l2"
CON, REV_A, REV_U, SUP = "con", "rev_a", "rev_u", "sup"
PEOPLE = (ANON, C1, C2, L1, L2, CON, REV_A, REV_U, SUP)
STAFF = frozenset({CON, REV_A, REV_U, SUP})
# Staff each also without the second factor.
UNVERIFIED = tuple(f"{role}-unverified" for role in sorted(STAFF))

EVERYONE = frozenset(PEOPLE)
SIGNED_IN = EVERYONE - {ANON}
NOBODY: frozenset[str] = frozenset()
REVIEW = frozenset({REV_A, REV_U, SUP})  # the review workspace
ON_CASE = frozenset({REV_A, SUP})  # complaint A's reviewer, and supervisors
LISTENERS = frozenset({L1, L2})
COMPLAINANTS = frozenset({C1, C2})


# The second-factor pages send each person where they belong (on to set-up, or home): not checked.
ANY_OUTCOME = frozenset({"*"})


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


# --- who may get what ---------------------------------------------------------------------------
# Keyed by URL name ("namespace:name"); admin model pages come from ADMIN_MODELS below.

ALLOWED: dict[str, frozenset[str]] = {
    # The portal: listeners' own pages; "/" sends each person to their home.
    "portal:home": SIGNED_IN,
    "portal:listener_home": LISTENERS,
    "portal:complaints": LISTENERS,
    "portal:complaint": only(L1),
    "portal:tasks": LISTENERS,
    "portal:interviews": LISTENERS,
    "portal:interview_reapply": LISTENERS,
    "portal:interview": only(L1),
    "portal:interview_plan_evidence": only(L1),  # the proof file of listener 1's plan item
    "portal:ethics_decisions": LISTENERS,
    # The complainant's pages.
    "complaint_questions": only(C1),
    "complaint_review_request": only(C1),
    "complaints:list": COMPLAINANTS,
    "complaints:new": COMPLAINANTS,
    "complaints:attachment": only(C1, CON, REV_A, SUP),  # evidence: the complainant and staff on the case
    "complaints:export": COMPLAINANTS,
    "complaints:detail": only(C1),
    "complaints:submitted": only(C1),
    "complaints:add_info": only(C1),
    "complaints:withdraw": only(C1),
    "complaints:survey": only(C1),
    # The review workspace: the queue for the group, a case only for those on it.
    "review:queue": REVIEW,
    "review:tasks": REVIEW,
    "review:task_review": ON_CASE,
    "review:task_evidence": ON_CASE | {L1},  # and the listener who did the task
    "review:contact_file": ON_CASE,
    "review:case": ON_CASE,
    "review:begin_evaluation": ON_CASE,
    "review:statement_request": ON_CASE,
    "review:contact_add": ON_CASE,
    "review:information_request_add": ON_CASE,
    "review:reviewer_add": ON_CASE,
    "review:conflict_declare": ON_CASE,
    "review:evaluation": ON_CASE,
    "review:final": ON_CASE,
    "review:decision": ON_CASE,
    "review:decision_submit": ON_CASE,
    "review:decision_notify": ON_CASE,
    "review:listener_response": ON_CASE,
    "review_supervision:approvals": only(SUP),
    "review_supervision:approve": only(SUP),
    "review_supervision:send_back": only(SUP),
    "review:review_requests": REVIEW,  # open requests without their content
    "review:review_request": only(SUP),  # its handler (the third reviewer) and supervisors
    "review:review_request_assign": only(SUP),
    "review_supervision:appeals": REVIEW,
    "review_supervision:appeal_assign": only(SUP),
    "review_supervision:appeal_resolve": only(SUP),
    "review_supervision:archive": ON_CASE,
    "core:notifications": SIGNED_IN,
    "core:notification_read": SIGNED_IN,
    # Supervision: supervisors; listeners file reports and confidentiality breaks.
    "supervision:confidentiality_list": only(SUP),
    "supervision:confidentiality_new": LISTENERS,
    "supervision:confidentiality_detail": only(SUP),
    "supervision:confidentiality_acknowledge": only(SUP),
    "supervision:confidentiality_outcome": only(SUP),
    "supervision:report_new": SIGNED_IN,
    "supervision:report_anonymous": EVERYONE,
    "supervision:report_list": only(SUP),
    "supervision:report_detail": only(SUP),
    "supervision:report_open_case": only(SUP),
    "supervision:report_reveal": only(SUP),
    "supervision:ethics_list": only(SUP),
    "supervision:ethics_new": only(SUP),
    "supervision:ethics_detail": only(SUP),
    "supervision:ethics_reveal": only(SUP),
    "supervision:ethics_action": only(SUP),
    "supervision:audit_list": only(SUP),
    "supervision:audit_detail": only(SUP),
    "supervision:audit_open_case": only(SUP),
    "supervision_dashboard:dashboard": only(SUP),
    "supervision_dashboard:export": NOBODY,  # without ?report= a 404, for supervisors too
    "healthz": EVERYONE,
    # The admin's own pages.
    "admin:index": STAFF,
    "admin:login": NOBODY,  # sends everyone to the site's sign-in page
    "admin:logout": EVERYONE,  # POST only
    "admin:password_change": STAFF,
    "admin:password_change_done": STAFF,
    "admin:autocomplete": NOBODY,  # 403 without its query parameters
    "admin:jsi18n": STAFF,
    "admin:view_on_site": NOBODY,  # no model has a page of its own outside the admin
    "admin:app_list": STAFF,
    "admin:<catch-all>": NOBODY,
    "admin:otp_totp_totpdevice_config": NOBODY,  # superusers only
    "admin:otp_totp_totpdevice_qrcode": NOBODY,
    "admin:auth_user_password_change": only(SUP),
    "admin:complaints_complaint_reveal": ON_CASE,
    "admin:complaints_complaint_transition": only(CON, REV_A, SUP),
    "admin:complaints_complaint_note": only(CON, REV_A, SUP),
    "admin:interviews_competencyinterview_panel": only(SUP),
    "admin:interviews_competencyinterview_open_scheduling": only(SUP),
    "admin:interviews_competencyinterview_hold": ON_CASE,
    "admin:interviews_competencyinterview_no_show": ON_CASE,
    "admin:interviews_competencyinterview_release_slot": only(SUP),
    "admin:interviews_competencyinterview_score": ON_CASE,
    "admin:interviews_competencyinterview_send_result": ON_CASE,
    "admin:interviews_competencyinterview_cancel": only(SUP),
    "admin:interviews_competencyinterview_material": ON_CASE,
    # Plan items: the interview's panel (the reviewer on the case leads it) and supervisors; a
    # reviewer off the panel does not see the interview, so neither its plan.
    "admin:interviews_competencyinterview_plan_evidence": ON_CASE,
    "admin:interviews_interviewplanitem_verify": ON_CASE,
    "admin:interviews_interviewplanitem_send_back": ON_CASE,
    # Sign-in and account pages: open to all.
    "login": EVERYONE,
    "logout": EVERYONE,
    "password_reset": EVERYONE,
    "password_reset_done": EVERYONE,
    "password_reset_confirm": EVERYONE,
    "password_reset_complete": EVERYONE,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    "accounts:register": EVERYONE,
    "accounts:otp_verify": ANY_OUTCOME,
    "accounts:otp_setup": ANY_OUTCOME,
    "set_language": EVERYONE,
    # The API: complainants their own complaints, staff past the second factor, reviewers their cases.
    "api:session-import": NOBODY,  # the platform's token only (tests/accounts/test_role_access.py)
    "api:complaint-list": COMPLAINANTS | STAFF,
    "api:complaint-detail": only(C1, CON, REV_A, SUP),
    "api:complaint-transition": only(C1, CON, REV_A, SUP),  # POST only: 405 for those who reach it
    "api:complaint-timeline": only(C1, CON, REV_A, SUP),
    "api:complaint-attachments": only(C1, CON, REV_A, SUP),
    "schema": EVERYONE,
    "api-docs": EVERYONE,
}

# Admin model pages: (who may open the list, who may open the row, who may add, who may delete).
# The row is complaint A's (or listener 1's); a reviewer not on it gets a 404, and a list it may
# open does not show the row.
LIST, VIEW, ADD, DELETE = 0, 1, 2, 3
ADMIN_MODELS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]] = {
    "auth.group": (NOBODY, NOBODY, NOBODY, NOBODY),
    "authtoken.tokenproxy": (NOBODY, NOBODY, NOBODY, NOBODY),
    "otp_totp.totpdevice": (NOBODY, NOBODY, NOBODY, NOBODY),  # superusers only
    "otp_static.staticdevice": (NOBODY, NOBODY, NOBODY, NOBODY),
    "axes.accessattempt": (NOBODY, NOBODY, NOBODY, NOBODY),
    "axes.accesslog": (NOBODY, NOBODY, NOBODY, NOBODY),
    "axes.accessfailurelog": (NOBODY, NOBODY, NOBODY, NOBODY),
    "core.accesslog": (only(SUP), only(SUP), NOBODY, NOBODY),
    "core.deadlinepolicy": (only(SUP), only(SUP), NOBODY, NOBODY),
    "core.holiday": (only(SUP), only(SUP), only(SUP), only(SUP)),
    "core.deadline": (only(CON, SUP), only(CON, SUP), NOBODY, NOBODY),
    "core.notification": (only(SUP), only(SUP), NOBODY, NOBODY),
    "core.outboxevent": (only(SUP), only(SUP), NOBODY, NOBODY),
    "core.webhookdelivery": (only(SUP), only(SUP), NOBODY, NOBODY),
    "accounts.user": (STAFF, STAFF, only(SUP), NOBODY),
    "listeners.listenerprofile": (STAFF, STAFF, only(SUP), NOBODY),
    "listeners.listeningsession": (STAFF, STAFF, NOBODY, NOBODY),
    "listeners.listenerstatuschange": (STAFF, STAFF, NOBODY, NOBODY),
    "listeners.listenerhold": (STAFF, STAFF, only(SUP), NOBODY),
    "complaints.complaint": (STAFF, only(CON, REV_A, SUP), only(CON, SUP), NOBODY),
    "complaints.replytemplate": (only(CON, SUP), only(CON, SUP), only(CON, SUP), NOBODY),
    "complaints.crisisterm": (only(SUP), only(SUP), only(SUP), NOBODY),
    "interviews.competencyinterview": (REVIEW, ON_CASE, only(SUP), NOBODY),
    "interviews.interviewslot": (REVIEW, REVIEW, REVIEW, NOBODY),
    "interviews.interviewplanitem": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "interviews.scoringarea": (only(SUP), only(SUP), NOBODY, NOBODY),
    "evaluations.grade": (REVIEW, REVIEW, only(SUP), NOBODY),
    "evaluations.decision": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "evaluations.evaluation": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "evaluations.listenertask": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "evaluations.appeal": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "evaluations.contactrecord": (REVIEW, ON_CASE, NOBODY, NOBODY),
    "supervision.anomalyrule": (only(SUP), only(SUP), only(SUP), NOBODY),
    "supervision.ethicscase": (only(SUP), only(SUP), NOBODY, NOBODY),
    "supervision.listenerreport": (only(SUP), only(SUP), NOBODY, NOBODY),
    "supervision.qualityaudit": (only(SUP), only(SUP), NOBODY, NOBODY),
}

ADMIN_PAGE = re.compile(r"^admin:(?P<app>[a-z_]+?)_(?P<model>[a-z]+)_(?P<page>changelist|add|history|delete|change)$")


# --- walking the URLconf ------------------------------------------------------------------------


def url_patterns() -> Iterator[tuple[str, str, URLPattern]]:
    """(key, route, pattern) for every pattern, includes recursed into."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[tuple[str, str, URLPattern]]:
        for pattern in resolver.url_patterns:
            route = prefix + _route(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace])) if pattern.namespace else namespace
                yield from walk(pattern, route, inner)
            else:
                yield _key(namespace, pattern, route), route, pattern

    yield from walk(get_resolver(), "/", "")


def _route(pattern) -> str:
    if isinstance(pattern, RegexPattern):
        return pattern._regex.lstrip("^").rstrip("$")
    assert isinstance(pattern, RoutePattern)
    return str(pattern)


def _key(namespace: str, pattern: URLPattern, route: str) -> str:
    if pattern.name:
        return f"{namespace}:{pattern.name}" if namespace else pattern.name
    if route == "/admin/(?P<url>.*)":
        return "admin:<catch-all>"
    # The admin's unnamed "<object_id>/" redirects to the change page: keyed as that page.
    model = re.match(r"^/admin/(\w+)/(\w+)/<path:object_id>/$", route)
    assert model, f"an unnamed URL pattern needs a name: {route}"
    return f"admin:{model[1]}_{model[2]}_change"


def allowed_for(key: str, admin_labels: dict[str, str]) -> frozenset[str] | None:
    if key in ALLOWED:
        return ALLOWED[key]
    page = ADMIN_PAGE.match(key)
    if page is None:
        return None
    label = admin_labels.get(f"{page['app']}_{page['model']}")
    if label is None or label not in ADMIN_MODELS:
        return None
    rights = ADMIN_MODELS[label]
    return {"changelist": rights[LIST], "add": rights[ADD], "delete": rights[DELETE]}.get(page["page"], rights[VIEW])


def row_hidden_from(key: str, admin_labels: dict[str, str]) -> frozenset[str]:
    """Who may open an admin list but not its row: the list must not show the row to them."""
    page = ADMIN_PAGE.match(key)
    if page is None or page["page"] != "changelist":
        return NOBODY
    rights = ADMIN_MODELS[admin_labels[f"{page['app']}_{page['model']}"]]
    return rights[LIST] - rights[VIEW]


def admin_labels() -> dict[str, str]:
    from django.contrib import admin

    return {f"{m._meta.app_label}_{m._meta.model_name}": m._meta.label_lower for m in admin.site._registry}


# --- filling paths with someone else's objects ----------------------------------------------------


def fill(key: str, route: str, world) -> str:
    o = world.objects
    complaint = o["complaint"]
    by_key_pk = {
        "portal:complaint": complaint.pk,
        "portal:interview": o["interview"].pk,
        "portal:interview_plan_evidence": o["interview"].pk,
        "review:task_review": o["task"].pk,
        "review:task_evidence": o["task"].pk,
        "review:contact_file": o["contact"].pk,
        "review_supervision:approve": o["decision"].pk,
        "review_supervision:send_back": o["decision"].pk,
        "review_supervision:appeal_assign": o["appeal"].pk,
        "review_supervision:appeal_resolve": o["appeal"].pk,
        "review:review_request": o["review_request"].pk,
        "review:review_request_assign": o["review_request"].pk,
        "admin:otp_totp_totpdevice_config": _first_pk("otp_totp.totpdevice"),
        "admin:otp_totp_totpdevice_qrcode": _first_pk("otp_totp.totpdevice"),
    }
    for prefix, name in (
        ("supervision:confidentiality_", "breach"),
        ("supervision:report_", "report"),
        ("supervision:ethics_", "ethics_case"),
        ("supervision:audit_", "audit"),
    ):
        if key.startswith(prefix):
            by_key_pk[key] = o[name].pk
    values = {
        "reference": complaint.reference,
        "public_id": o["attachment"].public_id,
        "pk": by_key_pk.get(key),
        "item_pk": o["plan_item"].pk,
        "material_pk": o["material"].pk,
        "action": "note",
        "name": "close",
        "field": "real_name",
        "content_type_id": ContentType.objects.get_for_model(type(complaint)).pk,
        "id": world.users["c1"].pk,
        "uidb64": "MQ",
        "token": "set-password",
        "app_label": "complaints",
        "url": "nowhere/",
    }
    if "object_id" in route:
        values["object_id"] = _admin_object_id(route, world)

    def value(name: str) -> str:
        assert values.get(name) is not None, f"no value for <{name}> in {key}"
        return str(values[name])

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m[1]), route)
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m[1]), path)


def _first_pk(label: str):
    from django.apps import apps

    first = apps.get_model(label).objects.order_by("pk").first()
    return first.pk if first is not None else 0


def _admin_object_id(route: str, world) -> object:
    from django.apps import apps

    if route.startswith("/admin/r/"):  # view_on_site
        return world.objects["complaint"].pk
    app, model = re.match(r"^/admin/(\w+)/(\w+)/", route).groups()  # type: ignore[union-attr]
    o = world.objects
    mine = {
        "complaints.complaint": o["complaint"],
        "evaluations.decision": o["decision"],
        "evaluations.appeal": o["appeal"],
        "evaluations.contactrecord": o["contact"],
        "evaluations.listenertask": o["task"],
        "interviews.competencyinterview": o["interview"],
        "interviews.interviewslot": o["slot"],
        "interviews.interviewplanitem": o["plan_item"],
        "supervision.ethicscase": o["ethics_case"],
        "supervision.listenerreport": o["report"],
        "supervision.qualityaudit": o["audit"],
        "authtoken.tokenproxy": o["token"],
        "listeners.listenerprofile": o["listener"],
        "listeners.listeningsession": o["session"],
        "accounts.user": world.users["c1"],
    }.get(f"{app}.{model}")
    if mine is not None:
        return mine.pk
    if app == "evaluations" and model == "evaluation":
        return apps.get_model("evaluations.evaluation").objects.filter(complaint=o["complaint"]).first().pk
    return _first_pk(f"{app}.{model}")


# --- the test -----------------------------------------------------------------------------------

REFUSED = "refused"
SERVED = "served"
EITHER = "either"


def outcome(response) -> str:
    status = response.status_code
    if status in (401, 403, 404):
        return REFUSED
    if status == 405:
        return EITHER  # a GET on a POST-only view shows nothing, whoever asks
    if status in (301, 302):
        location = response["Location"]
        if location.startswith(("/accounts/login/", "/admin/login/", "/accounts/otp/")):
            return REFUSED
        return EITHER  # a redirect carries no case content
    if status in (200, 400, 409):
        return SERVED
    return f"status {status}"


def client_for(person: str, world):
    from django.test import Client

    if person == ANON:
        return Client()
    role, _, unverified = person.partition("-")
    return signed_in_client(world.users[role], verified=not unverified)


def test_every_url_pattern_has_an_entry_in_the_access_table():
    labels = admin_labels()

    missing = sorted({key for key, _, _ in url_patterns() if allowed_for(key, labels) is None})

    assert not missing, f"URL patterns with no entry in ALLOWED / ADMIN_MODELS: {missing}"


@pytest.mark.parametrize("person", [*PEOPLE, *UNVERIFIED])
def test_each_person_gets_exactly_what_the_table_allows(db, settings, tmp_path, person):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    world = build_world()
    client = client_for(person, world)
    labels = admin_labels()
    role = person.partition("-")[0]
    unverified = person.endswith("-unverified")
    wrong: list[str] = []

    for key, route, _pattern in url_patterns():
        allowed = allowed_for(key, labels)
        if allowed is None:
            continue  # reported by the test above
        path = fill(key, route, world)
        if "/0/" in path:
            allowed = NOBODY  # no such row in the world: a 404 for everyone

        # when
        response = client.get(path)

        # then
        got = outcome(response)
        if allowed is ANY_OUTCOME or (unverified and path.startswith(_OPEN_PREFIXES)):
            expected = {REFUSED, SERVED, EITHER}  # the sign-in pages
        elif unverified or role not in allowed:
            expected = {REFUSED, EITHER}
        else:
            expected = {SERVED, EITHER}
        if got not in expected:
            wrong.append(f"{key} {path}: {response.status_code} ({got}; allowed: {sorted(allowed)})")
        if role in row_hidden_from(key, labels) and got == SERVED:
            row = fill(key, route + "<path:object_id>/change/", world)
            if row in response.content.decode():
                wrong.append(f"{key} {path}: lists a row it may not open ({row})")
        page = response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")
        if person != ANON and page and "no-store" not in response.get("Cache-Control", ""):
            wrong.append(f"{key} {path}: 200 without Cache-Control: no-store")

    assert not wrong, f"{person}:\n" + "\n".join(wrong)
