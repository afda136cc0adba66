"""`dlqctl config list` and `config show`: what the config files hold, and which files they are."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ..conftest import invoke

CONFIG = """\
[defaults]
max_scan = 500

[pipelines.prod]
dlq = "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-dlq-pipeline-dlq"
source_queue = "arn:aws:sqs:eu-west-1:123456789012:prod-dlq-pipeline"
ledger_table = "prod-dlq-pipeline-ledger"
region = "eu-west-1"
batching_window_s = 5

[[pipelines.prod.rules]]
when = "error.code == 'E42'"
error_type = "ValidationError"

[pipelines.lab]
dlq = "http://127.0.0.1:51234/123456789012/dlq-pipeline-dlq"
source_queue = "http://127.0.0.1:51234/123456789012/dlq-pipeline"
endpoint_url = "http://127.0.0.1:51234"
region = "us-east-1"
profile = "lab"

[pipelines.orders]
dlq = "orders-dlq"
"""

# Every key a pipeline has in JSON, set or not.
PIPELINE_KEYS = {
    "name",
    "config",
    "dlq",
    "source_queue",
    "region",
    "profile",
    "endpoint_url",
    "ledger_table",
    "ledger_format",
    "ledger_function",
    "ledger_handler",
    "ledger_key_prefix",
    "ledger_key_jmespath",
    "ledger_payload",
    "ledger_hash_function",
    "ledger_sort_key",
    "kind",
    "original_target",
    "error_type_attribute",
    "worker_timeout_s",
    "batching_window_s",
    "concurrency",
    "rules",
    "replaces",
}


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ./dlqctl.toml in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "dlqctl.toml"
    path.write_text(CONFIG)
    return path


def user_config(text: str) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "dlqctl" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def listed(*args: str) -> Any:
    return json.loads(invoke("config", "list", *args, "-o", "json").stdout)


def test_list_json_has_every_key_for_every_pipeline(local: Path) -> None:
    document = listed()
    assert document["config"] == str(local)
    assert document["config_source"] == "working_directory"
    assert document["config_files"] == [{"path": str(local), "source": "working_directory"}]
    assert document["not_read"] == []
    assert [p["name"] for p in document["pipelines"]] == ["lab", "orders", "prod"]
    assert all(set(p) == PIPELINE_KEYS for p in document["pipelines"])
    lab, orders, prod = document["pipelines"]
    assert orders == {key: None for key in PIPELINE_KEYS} | {
        "name": "orders",
        "dlq": "orders-dlq",
        "rules": [],
        "config": str(local),
    }
    assert (lab["endpoint_url"], lab["profile"], lab["region"]) == (
        "http://127.0.0.1:51234",
        "lab",
        "us-east-1",
    )
    assert prod["rules"] == [{"when": "error.code == 'E42'", "error_type": "ValidationError"}]


def test_list_ndjson_is_one_pipeline_a_line(local: Path) -> None:
    lines = invoke("config", "list", "-o", "ndjson").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["lab", "orders", "prod"]


def test_local_config_is_merged_over_the_user_config(local: Path) -> None:
    user = user_config('[pipelines.mine]\ndlq = "mine-dlq"\n')
    document = listed()
    assert (document["config"], document["not_read"]) == (str(local), [])
    assert [source["path"] for source in document["config_files"]] == [str(local), str(user)]
    mine = next(p for p in document["pipelines"] if p["name"] == "mine")
    assert (mine["config"], mine["replaces"]) == (str(user), None)
    text = invoke("config", "list").stdout
    assert f"config file: {local} (in the working directory)" in text
    assert f"  merged over: {user} (the user config)" in text
    assert "not read" not in text


def test_where_the_config_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = user_config('[pipelines.mine]\ndlq = "mine-dlq"\n')
    assert (listed()["config"], listed()["config_source"]) == (str(user), "user_config")
    named = tmp_path / "named.toml"
    named.write_text('[pipelines.named]\ndlq = "named-dlq"\n')
    by_flag = listed("--config", str(named))
    assert (by_flag["config_source"], by_flag["not_read"]) == ("--config", [str(user)])
    monkeypatch.setenv("DLQCTL_CONFIG", str(named))
    assert listed()["config_source"] == "DLQCTL_CONFIG"
    assert [p["name"] for p in listed()["pipelines"]] == ["named"]


def test_no_config_file_is_said_plainly() -> None:
    result = invoke("config", "list")
    assert result.stdout == ""
    assert "no config file: dlqctl looked for ./dlqctl.toml and" in result.stderr
    assert listed() == {
        "config": None,
        "config_source": None,
        "config_files": [],
        "not_read": [],
        "pipelines": [],
    }


def test_a_config_without_pipelines(local: Path) -> None:
    local.write_text("[defaults]\nmax_scan = 500\n")
    result = invoke("config", "list")
    assert f"config file: {local}" in result.stderr
    assert "no pipelines configured: `dlqctl config import-stack STACK` adds one" in result.stderr
    assert listed()["pipelines"] == []


def test_a_broken_config_is_a_usage_error(local: Path) -> None:
    local.write_text('[pipelines.orders]\nqueue = "orders-dlq"\n')
    result = invoke("config", "list", expect=2)
    assert result.stderr.count("\n") == 1
    assert "dlqctl.toml: pipelines.orders.dlq: Field required" in result.stderr
    missing = invoke("config", "list", "--config", "/nonexistent/c.toml", expect=2)
    assert "config file /nonexistent/c.toml does not exist" in missing.stderr


def rendered(width: int, *args: str) -> list[str]:
    lines = invoke(*args, env={"COLUMNS": str(width)}).stdout.splitlines()
    assert all(len(line) <= width for line in lines), "\n".join(lines)
    assert "…" not in "\n".join(lines)
    return lines


def whole(text: str, lines: list[str]) -> bool:
    return any(text in line for line in lines)


def test_list_table_at_120_columns(local: Path) -> None:
    lines = rendered(120, "config", "list")
    header = next(line for line in lines if "Pipeline" in line)
    assert "DLQ" in header and "Source queue" in header and "Region / endpoint / profile" in header
    row = next(line for line in lines if line.strip().startswith("prod "))
    # Queues by name, on the pipeline's row; config show has the URL or ARN.
    assert row.split() == ["prod", "prod-dlq-pipeline-dlq", "prod-dlq-pipeline", "eu-west-1"]
    assert whole("http://127.0.0.1:51234", lines) and whole("profile lab", lines)
    assert whole("`dlqctl config show NAME` shows one in full", lines)


def test_list_at_80_columns_never_cuts_a_name(local: Path) -> None:
    # The lab's endpoint makes the table a column too wide: one block a pipeline instead.
    lines = rendered(80, "config", "list")
    assert whole(str(local), lines)  # on a line of its own when it is long
    start = lines.index("lab")
    assert lines[start : start + 6] == [
        "lab",
        "  DLQ           dlq-pipeline-dlq",
        "  source queue  dlq-pipeline",
        "  region        us-east-1",
        "  endpoint      http://127.0.0.1:51234",
        "  profile       lab",
    ]


def test_list_table_at_80_columns_when_it_fits(local: Path) -> None:
    local.write_text(CONFIG.split("[pipelines.lab]")[0])
    lines = rendered(80, "config", "list")
    header = next(line for line in lines if "Pipeline" in line)
    assert header.split() == ["Pipeline", "DLQ", "Source", "queue", "Region"]  # only what is set
    row = next(line for line in lines if line.strip().startswith("prod "))
    assert row.split() == ["prod", "prod-dlq-pipeline-dlq", "prod-dlq-pipeline", "eu-west-1"]


def test_show_json_is_the_pipeline_in_full(local: Path) -> None:
    document = json.loads(invoke("config", "show", "prod", "-o", "json").stdout)
    assert set(document) == PIPELINE_KEYS
    assert document["dlq"] == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-dlq-pipeline-dlq"
    )
    assert (document["ledger_table"], document["batching_window_s"]) == (
        "prod-dlq-pipeline-ledger",
        5,
    )
    assert (document["name"], document["config"]) == ("prod", str(local))


@pytest.mark.parametrize("width", [80, 120])
def test_show_for_people(local: Path, width: int) -> None:
    lines = rendered(width, "config", "show", "prod")
    assert lines[0] == "pipeline prod"
    assert whole(str(local), lines)
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-dlq-pipeline-dlq"
    arn = "arn:aws:sqs:eu-west-1:123456789012:prod-dlq-pipeline"
    if width == 80:  # too long beside its label: on its own line, whole
        start = lines.index("dlq")
        assert lines[start + 1] == f"  {url}"
    else:
        assert f"dlq                {url}" in lines
    assert whole(arn, lines)
    assert "ledger_table       prod-dlq-pipeline-ledger" in lines
    assert "  ValidationError  when error.code == 'E42'" in lines


def test_show_an_unknown_pipeline_is_a_usage_error(local: Path) -> None:
    result = invoke("config", "show", "nope", expect=2)
    assert result.stderr == (
        f"dlqctl: error: unknown pipeline 'nope' in {local}; known: lab, orders, prod\n"
    )
    local.unlink()
    result = invoke("config", "show", "nope", expect=2)
    assert "unknown pipeline 'nope' (there is no config file); known: none" in result.stderr
