"""manage.py anonymize_archived [--dry-run]: anonymise archived cases past the retention period."""

from django.core.management.base import BaseCommand

from supervision.retention import anonymize_archived, retention_cutoff


class Command(BaseCommand):
    help = "匿名化超过保存期限（RETENTION_YEARS，默认 3 年）的已归档投诉中的个人信息。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出将被匿名化的投诉，不做任何修改。")

    def handle(self, *args, dry_run: bool = False, **options):
        report = anonymize_archived(before=retention_cutoff(), dry_run=dry_run)
        cutoff = report.before.strftime("%Y-%m-%d %H:%M")
        if dry_run:
            self.stdout.write(f"[试运行] 归档早于 {cutoff} 的投诉中，将匿名化 {report.complaints} 件：")
            for reference in report.references:
                self.stdout.write(f"  {reference}")
            self.stdout.write(
                f"[试运行] 将清空 {report.timeline_notes} 条处理记录说明；"
                "身份信息与投诉内容、其他诉求、处理结果、不予受理理由、满意度评价将替换为“（已匿名化）”。未做任何修改。"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"已匿名化归档早于 {cutoff} 的投诉 {report.complaints} 件，清空处理记录说明 {report.timeline_notes} 条。"
            )
        )
        for reference in report.references:
            self.stdout.write(f"  {reference}")
