"""Shared machinery of the benchmarks in bench/: database, data, server, load driver, report.

Every bench script runs the same way:

    python bench/<name>.py [--complaints N] [--requests R]

It makes sure the database ``hearken_bench`` exists and is migrated (config.settings.bench),
loads N complaints once (a marker row says what is loaded; a different N reloads from an empty
database), starts gunicorn on a free loopback port, sends bounded traffic to 127.0.0.1 only,
prints each measurement as one JSON line and then a plain table, and stops gunicorn whatever
happens. A missed target prints MISSED and still exits 0; only errors exit non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SETTINGS = "config.settings.bench"
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "hearken_bench")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hearken")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-2026"
# RFC 6238's test secret, so a code can be computed outside the process too.
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
YEAR = 2026
N_CONSULTANTS = 8
N_REVIEWERS = 4
HTTP_TIMEOUT = 30
WAIT_STEP_SECONDS = 60
WAIT_MAX_MINUTES = 20


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        BENCH_DATABASE_NAME=BENCH_DB,
        PYTHONUNBUFFERED="1",
    )
    return env


os.environ.update(bench_env())


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--complaints", type=int, default=100_000, help="complaints to load (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement (default 200)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="wall-clock cap of one measurement")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the in-process counts")
    args = parser.parse_args()
    if args.complaints < 100 or args.requests < 1:
        parser.error("--complaints must be at least 100 and --requests at least 1")
    return args


# --- database ------------------------------------------------------------------------


def _url_with_db(name: str) -> str:
    parts = urlsplit(DATABASE_URL)
    return urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, f"/{name}", "", ""))


def pg_connect(dbname: str, *, autocommit: bool = False):
    import psycopg

    return psycopg.connect(_url_with_db(dbname), autocommit=autocommit, connect_timeout=10)


def ensure_database() -> bool:
    """Create ``hearken_bench`` if absent; True when it was created."""
    with pg_connect("postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if exists:
            return False
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        log(f"created database {BENCH_DB}")
        return True


def recreate_database() -> None:
    from django.db import connections

    connections.close_all()
    with pg_connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    log(f"recreated database {BENCH_DB}")


def migrate() -> None:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
        timeout=600,
    )
    log(f"migrated {BENCH_DB} in {time.monotonic() - started:.1f}s")


def django_setup() -> None:
    import django

    django.setup()


def read_meta() -> dict[str, str]:
    with pg_connect(BENCH_DB) as conn:
        found = conn.execute("SELECT to_regclass('bench_meta')").fetchone()
        if not found or found[0] is None:
            return {}
        return dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())


def wait_for_feature(what: str, check_code: str) -> str | None:
    """None once ``check_code`` runs cleanly in a fresh Django process, else (after 20 minutes) why not.

    A fresh process each time, so code other engineers are still writing is seen as it lands.
    """
    deadline = time.monotonic() + WAIT_MAX_MINUTES * 60
    program = "import django; django.setup()\n" + check_code
    reason = ""
    for _attempt in range(WAIT_MAX_MINUTES + 1):
        done = subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=120
        )
        if done.returncode == 0:
            return None
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit {done.returncode}"
        if time.monotonic() + WAIT_STEP_SECONDS > deadline:
            break
        log(f"{what} not there yet ({reason}); checking again in {WAIT_STEP_SECONDS}s")
        time.sleep(WAIT_STEP_SECONDS)
    return f"{what} not available after {WAIT_MAX_MINUTES} minutes ({reason})"


# --- data ------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红"
STORY = [
    "通话开始后倾听师一直在打字，回应很慢，",
    "我说到家里的事情时对方打断了我，",
    "订单显示 60 分钟，但实际只通话了 35 分钟，",
    "声音断断续续，重连了三次，",
    "倾听师说我想太多，让我很难受，",
    "结束后对方加我私人微信，让我私下付款，",
    "预约时间到了对方没有上线，",
    "对方把我之前说的隐私告诉了别人，",
]
ENDINGS = ["希望平台核实处理。", "希望能退款。", "希望对方道歉。", "想知道平台怎么看待这件事。"]
DEMANDS = ["refund", "apology", "explanation", "listener_handling"]
CATEGORIES = ["call_quality", "order_anomaly", "professional_competence", "ethics", "other"]
CATEGORY_WEIGHTS = [30, 25, 25, 10, 10]
# Older cases are mostly finished; a backlog of open ones remains.
OLD_STATES = [
    ("archived", 40),
    ("closed", 25),
    ("resolved", 6),
    ("rejected", 4),
    ("withdrawn", 3),
    ("submitted", 3),
    ("triage", 5),
    ("investigation", 6),
    ("evaluation", 3),
    ("decided", 2),
    ("follow_up", 3),
]
RECENT_STATES = [("submitted", 35), ("triage", 30), ("investigation", 15), ("resolved", 10), ("withdrawn", 2)]
NEW_STATES = [("submitted", 80), ("triage", 20)]
ESCALATED = {"investigation", "evaluation", "decided", "follow_up"}


@dataclass
class BenchData:
    complaints: int
    complainant_emails: list[str]
    consultant_emails: list[str]
    timeline_reference: str
    load_seconds: float | None = None  # None: already loaded

    @classmethod
    def from_meta(cls, meta: dict[str, str], load_seconds: float | None = None) -> BenchData:
        n_complainants = int(meta["complainants"])
        return cls(
            complaints=int(meta["complaints"]),
            complainant_emails=[complainant_email(k) for k in range(1, n_complainants + 1)],
            consultant_emails=[staff_email("consultant", k) for k in range(1, N_CONSULTANTS + 1)],
            timeline_reference=meta["timeline_reference"],
            load_seconds=load_seconds,
        )


def complainant_email(k: int) -> str:
    return f"complainant{k:05d}@bench.hearken.local"


def staff_email(role: str, k: int) -> str:
    return f"{role}{k:02d}@bench.hearken.local"


def id_number(rng: random.Random) -> str:
    born = datetime(1960, 1, 1) + timedelta(days=rng.randrange(45 * 365))
    body = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def md5_password(password: str) -> str:
    """The hash MD5PasswordHasher (the bench hasher) writes, computed once for every bench account."""
    from django.contrib.auth.hashers import make_password

    return make_password(password)


def ensure_bench_database(n: int) -> BenchData:
    """Database created, migrated and holding exactly the N-complaint data set; loads it if needed."""
    ensure_database()
    migrate()
    django_setup()
    meta = read_meta()
    if meta.get("complaints") == str(n):
        log(f"data already loaded ({n} complaints, marker from {meta.get('loaded_at')}): not loading again")
        return BenchData.from_meta(meta)
    if meta or _has_rows("complaints_complaint"):
        log(f"database holds another data set ({meta.get('complaints', 'unknown')} complaints): reloading")
        recreate_database()
        migrate()
    started = time.monotonic()
    meta = load_data(n)
    seconds = time.monotonic() - started
    log(f"loaded {n} complaints in {seconds:.1f}s")
    return BenchData.from_meta(meta, load_seconds=seconds)


def _has_rows(table: str) -> bool:
    with pg_connect(BENCH_DB) as conn:
        return conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


def _next_id(cur, table: str) -> int:
    return cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def _missing_defaults(cur, table: str, columns: Sequence[str]) -> dict[str, Any]:
    """Values for NOT NULL columns the loader does not know (added by newer migrations): the model's default.

    The schema grows while the bench is written; a column without a database default gets what
    Django would have saved for a new instance.
    """
    from django.apps import apps
    from django.db import connection

    rows = cur.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO'
             AND column_default IS NULL AND is_identity = 'NO'""",
        [table],
    ).fetchall()
    missing = [name for (name,) in rows if name not in columns]
    if not missing:
        return {}
    model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
    fields = {f.column: f for f in model._meta.concrete_fields} if model else {}
    values = {}
    for name in missing:
        found = fields.get(name)
        value = found.get_db_prep_save(found.get_default(), connection) if found else None
        if value is None:
            raise RuntimeError(f"{table}.{name} is NOT NULL and has no default the loader could use")
        values[name] = value
    log(f"{table}: filling {', '.join(sorted(values))} with the model defaults")
    return values


def _copy(cur, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]] | list[Sequence[Any]]) -> int:
    extra = _missing_defaults(cur, table, columns)
    tail = tuple(extra.values())
    count = 0
    with cur.copy(f"COPY {table} ({', '.join([*columns, *extra])}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, *tail) if tail else row)
            count += 1
    return count


def load_data(n: int) -> dict[str, str]:
    """Bulk-load users, listeners, sessions, N complaints and their timelines with COPY, in one transaction."""
    from complaints.models import Complaint
    from core.crypto import encrypt

    rng = random.Random(YEAR)
    labels = {name: Complaint._meta.get_field(name).crypto_label for name in ("real_name", "id_number", "phone")}
    user_phone_label = "accounts.User.phone"
    n_complainants = min(5000, max(20, n // 20))
    n_listeners = min(500, max(10, n // 200))
    password = md5_password(PASSWORD)
    now = datetime.now(UTC)
    start = datetime(YEAR, 1, 1, 2, tzinfo=UTC)
    span = (now - timedelta(minutes=10)) - start

    with pg_connect(BENCH_DB) as conn, conn.cursor() as cur:
        groups = dict(cur.execute("SELECT name, id FROM auth_group").fetchall())
        consent_id = cur.execute("SELECT id FROM complaints_consenttext WHERE is_current").fetchone()[0]

        # --- users: complainants, listeners' accounts, staff ---
        user_id = _next_id(cur, "accounts_user")
        users, memberships = [], []

        def add_user(email: str, name: str, role: str, *, staff: bool = False, phone: str = "") -> int:
            nonlocal user_id
            uid = user_id
            user_id += 1
            joined = start - timedelta(days=rng.randrange(400))
            users.append((uid, password, None, False, email, name, phone, "zh-hans", True, staff, joined))
            memberships.append((uid, groups[role]))
            return uid

        complainants = [
            add_user(
                complainant_email(k),
                f"用户{k}",
                "complainant",
                phone=encrypt(f"13{rng.randrange(10**9):09d}", label=user_phone_label),
            )
            for k in range(1, n_complainants + 1)
        ]
        listener_users = [
            add_user(f"listener{k:04d}@bench.hearken.local", f"倾听师{k}", "listener")
            for k in range(1, n_listeners + 1)
        ]
        consultants = [
            add_user(staff_email("consultant", k), f"顾问{k}", "consultant", staff=True)
            for k in range(1, N_CONSULTANTS + 1)
        ]
        reviewers = [
            add_user(staff_email("reviewer", k), f"专业组{k}", "reviewer", staff=True)
            for k in range(1, N_REVIEWERS + 1)
        ]
        add_user(staff_email("supervisor", 1), "督导1", "supervisor", staff=True)
        user_cols = ["id", "password", "last_login", "is_superuser", "email", "display_name", "phone", "language"]
        _copy(cur, "accounts_user", [*user_cols, "is_active", "is_staff", "date_joined"], users)
        _copy(cur, "accounts_user_groups", ["user_id", "group_id"], memberships)

        # --- listeners ---
        listener_id = _next_id(cur, "listeners_listenerprofile")
        listeners = list(range(listener_id, listener_id + n_listeners))
        _copy(
            cur,
            "listeners_listenerprofile",
            [
                "id",
                "code",
                "display_name",
                "status",
                "certificate_number",
                "certificate_verified",
                "joined_on",
                "user_id",
            ],
            (
                (
                    lid,
                    f"BL{k:05d}",
                    f"倾听师{k}",
                    "active",
                    f"CERT-{k:06d}",
                    k % 3 != 0,
                    (start - timedelta(days=k)).date(),
                    uid,
                )
                for k, (lid, uid) in enumerate(zip(listeners, listener_users, strict=True), start=1)
            ),
        )

        # --- sessions and complaints, one session per complaint ---
        session_id = _next_id(cur, "listeners_listeningsession")
        complaint_id = _next_id(cur, "complaints_complaint")
        timeline_index = n // 2
        sessions, complaints, events = [], [], []
        for i in range(n):
            submitted = start + span * ((i + 1) / n) - timedelta(seconds=rng.randrange(60))
            age = now - submitted
            complainant = complainants[rng.randrange(n_complainants)]
            listener = listeners[rng.randrange(n_listeners)]
            started_at = submitted - timedelta(hours=rng.randrange(1, 96))
            sid, cid = session_id + i, complaint_id + i
            sessions.append(
                (
                    sid,
                    f"BQ{YEAR}{i + 1:07d}",
                    rng.choice(["voice", "voice", "text"]),
                    started_at,
                    rng.choice([30, 45, 60, 90]),
                    Decimal(rng.choice(["49.00", "99.00", "199.00"])),
                    rng.choice([None, 1, 2, 3, 4, 5]),
                    started_at + timedelta(hours=1),
                    complainant,
                    listener,
                )
            )
            table = NEW_STATES if age < timedelta(days=1) else RECENT_STATES if age < timedelta(days=14) else OLD_STATES
            state = rng.choices([s for s, _ in table], [w for _, w in table])[0]
            category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
            if state in ESCALATED and category in ("call_quality", "order_anomaly"):
                category = "professional_competence"
            crisis = rng.random() < 0.01
            priority = 4 if crisis else rng.choices([1, 2, 3], [5, 85, 10])[0]
            channel = rng.choices(["web", "api", "phone"], [80, 15, 5])[0]
            story = "".join(rng.sample(STORY, rng.randrange(1, 4)))
            content = f"{story}{'我真的不想活了，' if crisis else ''}{rng.choice(ENDINGS)}（#{i + 1}）"
            handled = state not in ("submitted",) and not (state == "withdrawn" and rng.random() < 0.5)
            consultant = consultants[rng.randrange(N_CONSULTANTS)] if handled else None
            escalated = state in ESCALATED or (
                state in ("closed", "archived") and category in ("professional_competence", "ethics")
            )
            reviewer = reviewers[rng.randrange(N_REVIEWERS)] if escalated else None
            first_response = submitted + timedelta(minutes=rng.randrange(20, 26 * 60)) if handled else None
            version = (
                1 + (1 if handled else 0) + (2 if escalated else 0) + (1 if state in ("closed", "archived") else 0)
            )
            if i == timeline_index:
                state, category, consultant, reviewer, version = "follow_up", "ethics", consultants[0], reviewers[0], 20
                first_response = submitted + timedelta(hours=3)
            complaints.append(
                (
                    cid,
                    f"TS-{YEAR}-{i + 1:06d}",
                    category,
                    priority,
                    content,
                    rng.sample(DEMANDS, rng.randrange(1, 3)),
                    "",
                    channel,
                    encrypt(f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)}", label=labels["real_name"]),
                    encrypt(id_number(rng), label=labels["id_number"]),
                    encrypt(f"1{rng.choice('3589')}{rng.randrange(10**9):09d}", label=labels["phone"]),
                    "verbal" if channel == "phone" else "checkbox",
                    submitted,
                    None
                    if channel == "phone"
                    else f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    consultant if channel == "phone" else None,
                    crisis,
                    ["不想活"] if crisis else [],
                    state,
                    "已核实并处理。" if state == "resolved" else "",
                    "不属于受理范围。" if state == "rejected" else "",
                    submitted,
                    submitted + timedelta(hours=24),
                    first_response,
                    (first_response or submitted) + timedelta(hours=rng.randrange(1, 48)),
                    version,
                    consultant,
                    reviewer,
                    complainant,
                    listener,
                    sid,
                    consent_id,
                )
            )
            # Every complaint has the event its submission wrote.
            events.append(
                (cid, "transition", "", "submitted", "", "投诉已提交（网页表单）。", True, submitted, complainant)
            )
            if i == timeline_index:
                events.extend(_long_timeline(cid, submitted, complainant, consultants[0], reviewers[0]))
        _copy(
            cur,
            "listeners_listeningsession",
            [
                "id",
                "order_no",
                "channel",
                "started_at",
                "duration_minutes",
                "amount",
                "rating",
                "imported_at",
                "complainant_id",
                "listener_id",
            ],
            sessions,
        )
        complaint_cols = [
            "id",
            "reference",
            "category",
            "priority",
            "content",
            "demands",
            "demands_other",
            "intake_channel",
            "real_name",
            "id_number",
            "phone",
            "consent_method",
            "consent_at",
            "consent_ip",
            "consent_recorded_by_id",
            "crisis",
            "crisis_terms",
            "state",
            "resolution",
            "rejection_reason",
            "submitted_at",
            "first_response_due",
            "first_response_at",
            "updated_at",
            "version",
            "assigned_consultant_id",
            "assigned_reviewer_id",
            "complainant_id",
            "listener_id",
            "session_id",
            "consent_text_id",
        ]
        _copy(cur, "complaints_complaint", complaint_cols, complaints)
        _copy(
            cur,
            "complaints_timelineevent",
            [
                "complaint_id",
                "kind",
                "from_state",
                "to_state",
                "transition",
                "note",
                "visible_to_complainant",
                "created_at",
                "actor_id",
            ],
            events,
        )

        # New submissions continue after the loaded references.
        cur.execute(
            """INSERT INTO complaints_referencesequence (year, last) VALUES (%s, %s)
               ON CONFLICT (year) DO UPDATE SET last = GREATEST(complaints_referencesequence.last, EXCLUDED.last)""",
            [YEAR, n],
        )
        for table in (
            "accounts_user",
            "accounts_user_groups",
            "listeners_listenerprofile",
            "listeners_listeningsession",
            "complaints_complaint",
            "complaints_timelineevent",
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        meta = {
            "complaints": str(n),
            "complainants": str(n_complainants),
            "listeners": str(n_listeners),
            "timeline_reference": f"TS-{YEAR}-{timeline_index + 1:06d}",
            "loaded_at": now.isoformat(timespec="seconds"),
        }
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        cur.executemany(
            "INSERT INTO bench_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            list(meta.items()),
        )
        conn.commit()
    with pg_connect(BENCH_DB, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return meta


def _long_timeline(cid: int, submitted: datetime, complainant: int, consultant: int, reviewer: int) -> list[tuple]:
    """19 more events, so the chosen complaint's history has 20: moves, notes, assignments, added info."""
    steps = [
        ("assignment", "", "", "", "负责顾问：顾问1", False, consultant),
        ("transition", "submitted", "triage", "start_triage", "您的投诉已由咨询顾问开始处理。", True, consultant),
        ("note", "", "", "", "已电话联系投诉人，了解到对方在通话后私下添加了微信。", False, consultant),
        ("info_added", "", "", "", "补充聊天截图说明。\n附件：截图1.png", True, complainant),
        ("note", "", "", "", "截图显示倾听师引导私下付款，涉及职业伦理。", False, consultant),
        ("assignment", "", "", "", "负责专业组成员：专业组1", False, consultant),
        ("transition", "triage", "investigation", "escalate", "您的投诉已转交专业组调查。", True, consultant),
        ("note", "", "", "", "已调取订单记录与通话时长。", False, reviewer),
        ("note", "", "", "", "已约谈倾听师，对方承认添加了投诉人微信。", False, reviewer),
        ("info_added", "", "", "", "补充：对方又发来消息。", True, complainant),
        ("note", "", "", "", "专业组内部讨论，意见一致。", False, reviewer),
        ("transition", "investigation", "evaluation", "evaluate", "专业组正在评估。", True, reviewer),
        ("note", "", "", "", "评估意见：违反平台伦理守则第 4 条。", False, reviewer),
        ("note", "", "", "", "督导复核同意评估意见。", False, reviewer),
        ("transition", "evaluation", "decided", "decide", "平台已作出处理决定：暂停倾听师接单 30 天。", True, reviewer),
        ("note", "", "", "", "已通知倾听师处理决定。", False, consultant),
        ("note", "", "", "", "已为投诉人办理退款。", True, consultant),
        ("transition", "decided", "follow_up", "follow_up", "处理决定正在落实中。", True, consultant),
        ("note", "", "", "", "一周后回访投诉人。", False, consultant),
    ]
    return [
        (cid, kind, from_state, to_state, name, note, visible, submitted + timedelta(hours=2 * (k + 1)), actor)
        for k, (kind, from_state, to_state, name, note, visible, actor) in enumerate(steps)
    ]


# --- accounts the bench signs in with ---------------------------------------------------


def staff_device(email: str):
    """The staff user's confirmed TOTP device with the known key, ready for a fresh code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.get(email=email)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"key": TOTP_KEY_HEX, "confirmed": True}
    )
    # A code is accepted once per 30-second step; the bench signs in more often than that.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return device


def totp_code(device) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_INPUT.search(html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def new_http() -> Any:
    import requests

    http = requests.Session()
    http.headers["User-Agent"] = "hearken-bench"
    return http


def login_complainant(base: str, email: str) -> Any:
    http = new_http()
    page = http.get(f"{base}/accounts/login/", timeout=HTTP_TIMEOUT)
    page.raise_for_status()
    done = http.post(
        f"{base}/accounts/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_from(page.text)},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if done.status_code != 302:
        raise RuntimeError(f"complainant sign-in of {email} answered {done.status_code}")
    return http


def login_staff(base: str, email: str, next_url: str = "/admin/") -> Any:
    """Password, then the TOTP step, as a person would: two forms, each with its CSRF token."""
    http = new_http()
    page = http.get(f"{base}/accounts/login/", timeout=HTTP_TIMEOUT)
    page.raise_for_status()
    done = http.post(
        f"{base}/accounts/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_from(page.text), "next": next_url},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if done.status_code != 302:
        raise RuntimeError(f"staff sign-in of {email} answered {done.status_code}")
    verify_url = f"{base}/accounts/otp/verify/?next={next_url}"
    page = http.get(verify_url, timeout=HTTP_TIMEOUT)
    page.raise_for_status()
    device = staff_device(email)
    done = http.post(
        verify_url,
        data={"otp_token": totp_code(device), "csrfmiddlewaretoken": csrf_from(page.text), "next": next_url},
        headers={"Referer": verify_url},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if done.status_code != 302:
        raise RuntimeError(f"TOTP step of {email} answered {done.status_code}")
    check = http.get(f"{base}{next_url}", allow_redirects=False, timeout=HTTP_TIMEOUT)
    if check.status_code != 200:
        raise RuntimeError(f"{email} is signed in but {next_url} answered {check.status_code}")
    return http


def staff_test_client(email: str):
    """Django's test Client, signed in and past the second factor, for in-process query counts."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = staff_device(email).persistent_id
    session.save()
    return client


def count_queries(client, url: str, *, show: bool = False, warmups: int = 1) -> tuple[int, int, list[dict]]:
    """(status, number of SQL queries, the queries) for one GET, after ``warmups`` unmeasured ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = list(ctx.captured_queries)
    if show:
        print(f"-- {len(queries)} queries for GET {url}")
        for q in queries:
            print(f"   {q['time']}s  {q['sql'][:300]}")
    return response.status_code, len(queries), queries


_test_env_ready = False


def in_process_ready() -> None:
    """Let Django's test Client talk to this process's Django (adds 'testserver' to ALLOWED_HOSTS)."""
    global _test_env_ready
    if not _test_env_ready:
        from django.test.utils import setup_test_environment

        setup_test_environment()
        _test_env_ready = True


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU used so far by gunicorn's master and workers (not PostgreSQL's)."""
        return _cpu_of(self.pid) + sum(_cpu_of(child) for child in _children_of(self.pid))


@contextlib.contextmanager
def gunicorn_server(workers: int = 2) -> Iterator[Server]:
    """gunicorn on a free loopback port; yields it (base URL, pid) and always stops it."""
    import requests

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logfile = tempfile.NamedTemporaryFile(prefix="hearken-bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=bench_env(), stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    log(f"gunicorn pid {proc.pid} on {base} ({workers} sync workers), log {logfile.name}")
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(logfile.name)}")
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not healthy after 60s:\n{_tail(logfile.name)}")
            time.sleep(0.25)
        yield Server(base, proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this function started, nothing else
                proc.wait(10)
        logfile.close()
        errors = [line for line in Path(logfile.name).read_text(errors="replace").splitlines() if "Traceback" in line]
        if errors:
            log(f"gunicorn log has {len(errors)} traceback(s): see {logfile.name}")
        else:
            Path(logfile.name).unlink(missing_ok=True)
        log(f"gunicorn stopped (exit {proc.returncode})")


def _tail(path: str, lines: int = 40) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


# --- the load driver -------------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    ok: bool
    parts: dict[str, float] = field(default_factory=dict)  # ms of the steps inside one measured call
    note: str = ""


@dataclass
class Measurement:
    bench: str
    name: str
    clients: int
    requested: int
    done: int
    ok: int
    errors: int
    statuses: dict[str, int]
    seconds: float
    throughput: float
    p50: float
    p95: float
    p99: float
    max: float
    parts: dict[str, dict[str, float]] = field(default_factory=dict)
    load_avg: list[float] = field(default_factory=list)  # 1-minute load average before and after
    cpu: dict[str, float] = field(default_factory=dict)  # where the CPU went during the run
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def target(self, label: str, value: float, limit: float, *, at_least: bool = False) -> bool:
        met = value >= limit if at_least else value <= limit
        self.targets.append(
            {"what": label, "value": round(value, 1), "limit": f"{'>=' if at_least else '<='} {limit:g}", "met": met}
        )
        return met


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def run_load(
    bench: str,
    name: str,
    callables: Sequence[Callable[[int], Outcome]],
    *,
    total: int,
    concurrency: int,
    max_seconds: float,
    server: Server | None = None,
) -> Measurement:
    """``total`` calls over ``concurrency`` threads (thread k uses callables[k]), stopped at ``max_seconds``."""
    if len(callables) < concurrency:
        raise ValueError("one callable (with its own HTTP session) per concurrent client")
    lock = threading.Lock()
    issued = 0
    results: list[tuple[float, Outcome]] = []
    load_before = os.getloadavg()[0]
    server_cpu = server.cpu_seconds() if server else 0.0
    driver_cpu = time.process_time()
    machine_before = machine_cpu()
    started = time.perf_counter()
    deadline = started + max_seconds

    def worker(k: int) -> None:
        nonlocal issued
        call = callables[k]
        while True:
            with lock:
                if issued >= total or time.perf_counter() > deadline:
                    return
                i = issued
                issued += 1
            t0 = time.perf_counter()
            try:
                outcome = call(i)
            except Exception as exc:
                outcome = Outcome(status=0, ok=False, note=f"{type(exc).__name__}: {exc}"[:300])
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                results.append((elapsed, outcome))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.perf_counter()) + HTTP_TIMEOUT + 5)
    seconds = time.perf_counter() - started
    machine_after = machine_cpu()
    per_request = 1000 / max(1, len(results))
    cpu = {
        "gunicorn_ms_per_request": round(((server.cpu_seconds() if server else 0.0) - server_cpu) * per_request, 1),
        "driver_ms_per_request": round((time.process_time() - driver_cpu) * per_request, 1),
        "machine_busy_pct": round(
            100 * (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]), 1
        ),
    }
    latencies = [ms for ms, _ in results]
    ok = sum(1 for _, o in results if o.ok)
    statuses = Counter(str(o.status) for _, o in results)
    part_names = sorted({p for _, o in results for p in o.parts})
    parts = {
        p: {
            "p50": round(percentile([o.parts[p] for _, o in results if p in o.parts], 50), 1),
            "p95": round(percentile([o.parts[p] for _, o in results if p in o.parts], 95), 1),
        }
        for p in part_names
    }
    m = Measurement(
        bench=bench,
        name=name,
        clients=concurrency,
        requested=total,
        done=len(results),
        ok=ok,
        errors=len(results) - ok,
        statuses=dict(sorted(statuses.items())),
        seconds=round(seconds, 2),
        throughput=round(len(results) / seconds, 1) if seconds else 0.0,
        p50=round(percentile(latencies, 50), 1),
        p95=round(percentile(latencies, 95), 1),
        p99=round(percentile(latencies, 99), 1),
        max=round(max(latencies, default=0.0), 1),
        parts=parts,
        load_avg=[round(load_before, 2), round(os.getloadavg()[0], 2)],
        cpu=cpu if server else {"machine_busy_pct": cpu["machine_busy_pct"]},
    )
    if len(results) < total:
        m.notes.append(f"stopped at the {max_seconds:g}s cap after {len(results)} of {total} requests")
    failures = Counter(o.note or f"status {o.status}" for _, o in results if not o.ok)
    m.notes.extend(f"{count} × {note}" for note, count in failures.most_common(3))
    return m


def warm_up(callables: Sequence[Callable[[int], Outcome]], per_client: int = 2) -> None:
    """A few unmeasured calls per client: gunicorn workers load URLconfs and templates on first use."""
    for call in callables:
        for i in range(per_client):
            with contextlib.suppress(Exception):
                call(-1 - i)


# --- report -------------------------------------------------------------------------------


def emit(record: dict[str, Any] | Measurement) -> dict[str, Any]:
    data = record.__dict__.copy() if isinstance(record, Measurement) else dict(record)
    print(json.dumps(data, ensure_ascii=False), flush=True)
    return data


def verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


def print_tables(bench: str, loads: list[Measurement], counts: list[dict[str, Any]], extra: list[str]) -> None:
    print()
    print(f"== {bench}")
    if loads:
        header = f"{'measurement':<42} {'clients':>7} {'done':>5} {'ok':>5} {'err':>4} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  targets"
        print(header)
        print("-" * len(header))
        for m in loads:
            targets = "; ".join(f"{t['what']} {t['value']:g} {t['limit']} {verdict(t['met'])}" for t in m.targets)
            print(
                f"{m.name:<42} {m.clients:>7} {m.done:>5} {m.ok:>5} {m.errors:>4} {m.throughput:>7.1f} "
                f"{m.p50:>8.1f} {m.p95:>8.1f} {m.p99:>8.1f} {m.max:>8.1f}  {targets}"
            )
            for part, stats in m.parts.items():
                print(
                    f"{'  · ' + part:<42} {'':>7} {'':>5} {'':>5} {'':>4} {'':>7} {stats['p50']:>8.1f} {stats['p95']:>8.1f}"
                )
            print(f"{'  statuses':<42} {m.statuses}; machine load average {m.load_avg[0]} -> {m.load_avg[1]}")
            if m.cpu:
                print(f"{'  cpu':<42} " + ", ".join(f"{k} {v:g}" for k, v in m.cpu.items()))
            for note in m.notes:
                print(f"{'  note':<42} {note}")
    if counts:
        print()
        header = f"{'in-process query count':<42} {'status':>6} {'rows':>5} {'queries':>8}  target"
        print(header)
        print("-" * len(header))
        for c in counts:
            if c.get("skipped"):
                print(f"{c['name']:<42} skipped: {c['skipped']}")
                continue
            print(
                f"{c['name']:<42} {c['status']:>6} {c.get('rows', ''):>5} {c['queries']:>8}  "
                f"<= {c['limit']} {verdict(c['queries'] <= c['limit'])}"
            )
    for line in extra:
        print(line)
    print(flush=True)


def load_record(bench: str, data: BenchData) -> dict[str, Any]:
    return {
        "bench": bench,
        "name": "data load",
        "complaints": data.complaints,
        "complainants": len(data.complainant_emails),
        "loaded_now": data.load_seconds is not None,
        "seconds": round(data.load_seconds, 1) if data.load_seconds is not None else None,
    }


def fresh_key() -> str:
    return str(uuid.uuid4())


if __name__ == "__main__":
    print("bench/_common.py holds the helpers of the bench scripts; run bench/intake.py, admin_list.py or detail.py")
