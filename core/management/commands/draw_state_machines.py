from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.state_machines import expected_files


class Command(BaseCommand):
    help = (
        "Write a Mermaid stateDiagram of every django-fsm field to docs/state-machines/, "
        "or with --check fail when the files there differ from what the code gives."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Write nothing; exit 1 if any drawing is stale.")
        parser.add_argument(
            "--output-dir",
            default=str(Path(settings.BASE_DIR) / "docs" / "state-machines"),
            help="Directory to write to (default: docs/state-machines under the project).",
        )

    def handle(self, *args, **options):
        out = Path(options["output_dir"])
        files = expected_files()
        on_disk = {p.name for p in out.glob("*.md")} if out.is_dir() else set()
        stale = sorted(
            name
            for name in set(files) | on_disk
            if name not in files
            or not (out / name).is_file()
            or (out / name).read_text(encoding="utf-8") != files[name]
        )
        if options["check"]:
            if stale:
                raise CommandError(
                    "State machine drawings are stale (run manage.py draw_state_machines): " + ", ".join(stale)
                )
            self.stdout.write(f"{len(files)} files up to date in {out}")
            return
        out.mkdir(parents=True, exist_ok=True)
        for name in stale:
            if name in files:
                (out / name).write_text(files[name], encoding="utf-8")
                self.stdout.write(f"wrote {name}")
            else:
                (out / name).unlink()
                self.stdout.write(f"removed {name}")
        self.stdout.write(f"{len(files)} files, {len(stale)} changed in {out}")
