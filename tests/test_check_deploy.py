import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_djangos_deploy_checks():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        ["make", "-s", "check-deploy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stdout + result.stderr
