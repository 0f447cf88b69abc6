"""manage.py anonymize_archived [--dry-run]: anonymise archived cases past the retention period."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from supervision.retention import KINDS, anonymize_archived, retention_cutoff


class Command(BaseCommand):
    # Operator-facing like the other commands' help; what it prints is translated.
    help = "Anonymise the personal data of cases archived longer than RETENTION_YEARS (default 3) ago."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be anonymised, per kind of data; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        report = anonymize_archived(before=retention_cutoff(), dry_run=dry_run)
        values = {"cutoff": report.before.strftime("%Y-%m-%d %H:%M"), "count": report.complaints}
        if dry_run:
            self.stdout.write(_("[试运行] 归档早于 %(cutoff)s 的投诉中，将匿名化 %(count)d 件：") % values)
        else:
            self.stdout.write(self.style.SUCCESS(_("已匿名化归档早于 %(cutoff)s 的投诉 %(count)d 件：") % values))
        for reference in report.references:
            self.stdout.write(f"  {reference}")
        self.stdout.write(_("将处理的内容（条数）：") if dry_run else _("已处理的内容（条数）："))
        for kind, label in KINDS.items():
            self.stdout.write(f"  {label}: {report.counts[kind]}")
        if dry_run:
            self.stdout.write(
                _(
                    "文字内容将替换为“（已匿名化）”（原本为空的保持为空），处理记录说明将清空，"
                    "证据文件将被删除；统计所需的字段保持不变。未做任何修改。"
                )
            )
