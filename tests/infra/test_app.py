"""infra/app.py as the CDK CLI runs it: a script, CDK_OUTDIR set, the CLI's context in
CDK_CONTEXT_JSON; no credentials, no AWS config, and (where the machine allows) no
network at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import REPO_ROOT, offline_env


def no_network_prefix() -> list[str]:
    """`unshare -n` runs the command in a network namespace with no interfaces."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def test_app_py_synthesizes_offline_with_cdk_outdir(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    env = offline_env(tmp_path)
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps({"env": "prod"})
    result = subprocess.run(
        [*no_network_prefix(), sys.executable, str(REPO_ROOT / "infra" / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = [
        a for a, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"
    ]
    assert stacks == ["DlqPipeline-prod"]
    template = json.loads((outdir / "DlqPipeline-prod.template.json").read_text(encoding="utf-8"))
    assert len(template["Resources"]) > 40
    assert "Validation failed" not in result.stderr
