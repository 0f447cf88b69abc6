import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


class Command(BaseCommand):
    help = (
        "Let the role that web, worker and beat connect as read and write rows, and nothing more: "
        f"{TABLE_PRIVILEGES} on every table and {SEQUENCE_PRIVILEGES} on every sequence of the schema, "
        "now and (by default privileges) on what later migrations create. It owns nothing, so it cannot "
        "ALTER, DROP or TRUNCATE a table or disable its triggers. Run as the tables' owner (the role "
        "migrations run as), after migrate; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the app role, e.g. hearken_app")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="create the role (LOGIN) if missing, or set its password, from this environment variable",
        )

    def handle(self, *args, role: str, password_env: str | None, **options):
        if not ROLE_NAME.match(role):
            raise CommandError("The role name takes lower-case letters, digits and underscores.")
        password = os.environ.get(password_env, "") if password_env else None
        if password_env and not password:
            raise CommandError(f"{password_env} is empty.")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_schema(), EXISTS (SELECT FROM pg_roles WHERE rolname = %s)", [role]
            )
            owner, schema, exists = cursor.fetchone()
        if role == owner:
            raise CommandError("The app role must not be the role that owns the tables.")
        if password is None and not exists:
            raise CommandError(f"There is no role {role}; pass --password-env to create it.")

        names = {"role": sql.Identifier(role), "owner": sql.Identifier(owner), "schema": sql.Identifier(schema)}
        statements = []
        if password is not None:
            statements.append(
                sql.SQL(
                    ("ALTER" if exists else "CREATE")
                    + " ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD {password}"
                ).format(password=sql.Literal(password), **names)
            )
        default = "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT "
        statements += [
            sql.SQL(text).format(**names)
            for text in (
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {{schema}} TO {{role}}",
                f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {{schema}} TO {{role}}",
                default + f"{TABLE_PRIVILEGES} ON TABLES TO {{role}}",
                default + f"{SEQUENCE_PRIVILEGES} ON SEQUENCES TO {{role}}",
            )
        ]
        connection.ensure_connection()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.as_string(connection.connection))
        self.stdout.write(f"{role} may read and write the rows of schema {schema}; {owner} keeps the tables.")
