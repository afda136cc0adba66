"""What a handler can import in Lambda: the code asset, the Python runtime (stdlib and
boto3) and the Powertools layer. Nothing is bundled at synth time, so an import of any
other third-party package would fail on the first cold start, not in any other test; and
the asset holds the dlqctl modules the handlers import, no file more."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from infra.components import functions

from tests.infra.conftest import Synthesized

# The Lambda Python runtime ships boto3 and its dependencies; the Powertools v3 layer ships
# aws-lambda-powertools and pydantic v2 (its parser extra).
PROVIDED = {
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "urllib3",
    "dateutil",
    "six",
    "aws_lambda_powertools",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
}
PROBE = """
import importlib.abc, json, sys
asset, provided, modules = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3:]

class OnlyWhatLambdaHas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in provided or top == "dlqctl" or top[:1] == "_":
            return None
        raise ImportError(f"{name} is in neither the Lambda runtime nor the Powertools layer")

sys.meta_path.insert(0, OnlyWhatLambdaHas())
sys.path.insert(0, asset)
for module in modules:
    __import__(module)
import dlqctl
assert dlqctl.__file__.startswith(asset), dlqctl.__file__
loaded = [m.__file__ for name, m in sys.modules.items() if name.partition(".")[0] == "dlqctl"]
print(json.dumps(sorted(loaded)))
"""


def import_handlers_from_the_asset(asset: Path) -> list[str]:
    """The asset files of the dlqctl modules that importing both handlers loads, where only
    the runtime's and the layer's packages can be found."""
    modules = [h.rsplit(".", 1)[0] for h in (functions.INGEST_HANDLER, functions.WORKER_HANDLER)]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(asset), ",".join(sorted(PROVIDED)), *modules],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [Path(file).relative_to(asset).as_posix() for file in json.loads(result.stdout)]


def test_handlers_import_from_the_asset_and_it_holds_nothing_else(
    synthesized: Synthesized,
) -> None:
    pytest.importorskip("aws_lambda_powertools")
    [asset] = [p for p in synthesized.outdir.glob("asset.*") if p.is_dir()]
    loaded = import_handlers_from_the_asset(asset)
    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file())
    # Exactly the modules the import loaded: no CLI, lab, UI, caches or package metadata.
    assert files == sorted(loaded)
    assert "dlqctl/pipeline/worker.py" in files and "dlqctl/pipeline/ingest.py" in files
