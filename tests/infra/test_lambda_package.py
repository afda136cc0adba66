"""What a handler can import in Lambda: the code asset, the Python runtime (stdlib and
boto3) and the Powertools layer. Nothing is bundled at synth time, so an import of any
other third-party package would fail on the first cold start, not in any other test."""

from __future__ import annotations

import subprocess
import sys

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
import importlib.abc, sys
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
"""


def test_handlers_import_from_the_asset_with_only_runtime_and_layer_packages(
    synthesized: Synthesized,
) -> None:
    pytest.importorskip("aws_lambda_powertools")
    [asset] = [p for p in synthesized.outdir.glob("asset.*") if p.is_dir()]
    modules = [h.rsplit(".", 1)[0] for h in (functions.INGEST_HANDLER, functions.WORKER_HANDLER)]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(asset), ",".join(sorted(PROVIDED)), *modules],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
