"""The project's ./dlqctl.toml merged over the user config: which value wins, which file
each pipeline is from, and errors that name the file they are about."""

import json
import os
from pathlib import Path

import boto3
import pytest

from ..conftest import Pipeline, invoke, invoke_json

LAYERS = ("user", "project", "pipeline", "env", "flag")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where ./dlqctl.toml goes: the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "dlqctl.toml"


def user_config() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "dlqctl" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_types(*args: str) -> list[str]:
    """The error types `inspect` reads, as the settings in force tell it to."""
    report = invoke_json("inspect", *args)
    return [summary["error_type"] for summary in report["by_error_type"]]


def test_each_layer_beats_the_one_below(
    pipeline: Pipeline, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One message, an attribute per layer: the attribute in force names its error type.
    pipeline.put("{}", **{f"Kind{layer}": f"from-{layer}" for layer in LAYERS})
    assert error_types(pipeline.dlq_url) == ["Unknown"]  # the default attribute, ErrorType
    write(user_config(), '[defaults]\nerror_type_attribute = "Kinduser"\n')
    assert error_types(pipeline.dlq_url) == ["from-user"]
    write(project, '[defaults]\nerror_type_attribute = "Kindproject"\n')
    assert error_types(pipeline.dlq_url) == ["from-project"]
    write(
        project,
        '[defaults]\nerror_type_attribute = "Kindproject"\n\n'
        f'[pipelines.orders]\ndlq = "{pipeline.dlq_url}"\nerror_type_attribute = "Kindpipeline"\n',
    )
    assert error_types("--pipeline", "orders") == ["from-pipeline"]
    monkeypatch.setenv("DLQCTL_ERROR_TYPE_ATTRIBUTE", "Kindenv")
    assert error_types("--pipeline", "orders") == ["from-env"]
    flag = ("--error-type-attribute", "Kindflag")
    assert error_types("--pipeline", "orders", *flag) == ["from-flag"]


def test_defaults_merge_key_by_key(pipeline: Pipeline, project: Path) -> None:
    pipeline.put(json.dumps({"legacy": True}), KindA="from-a")
    write(
        user_config(),
        '[defaults]\nerror_type_attribute = "KindA"\nmax_scan = 100\n\n'
        '[[defaults.rules]]\nwhen = "legacy"\nerror_type = "UserRule"\n',
    )
    # The project sets another key: the user's attribute still applies.
    write(project, "[defaults]\nmax_scan = 500\n")
    assert error_types(pipeline.dlq_url) == ["from-a"]
    # `rules` is one key: the project's rules replace the user's, they do not add to them.
    write(
        project,
        '[defaults]\nerror_type_attribute = "NotSet"\n\n'
        '[[defaults.rules]]\nwhen = "legacy"\nerror_type = "ProjectRule"\n',
    )
    assert error_types(pipeline.dlq_url) == ["ProjectRule"]
    write(project, '[defaults]\nerror_type_attribute = "NotSet"\n')
    assert error_types(pipeline.dlq_url) == ["UserRule"]


def test_a_project_pipeline_replaces_the_users_whole_table(
    pipeline: Pipeline, project: Path
) -> None:
    pipeline.put("{}", KindUser="from-user-table")
    user = write(
        user_config(),
        f'[pipelines.orders]\ndlq = "{pipeline.dlq_url}"\nerror_type_attribute = "KindUser"\n\n'
        f'[pipelines.mine]\ndlq = "{pipeline.dlq_url}"\nerror_type_attribute = "KindUser"\n',
    )
    write(project, f'[pipelines.orders]\ndlq = "{pipeline.dlq_url}"\n')
    # Nothing of the user's [pipelines.orders] is left, not even a key the project's lacks.
    assert error_types("--pipeline", "orders") == ["Unknown"]
    # The user's other pipelines are there as they were.
    assert error_types("--pipeline", "mine") == ["from-user-table"]

    listed = invoke_json("config", "list")
    assert listed["config"] == str(project) and listed["config_source"] == "working_directory"
    assert listed["config_files"] == [
        {"path": str(project), "source": "working_directory"},
        {"path": str(user), "source": "user_config"},
    ]
    assert listed["not_read"] == []
    origins = {p["name"]: (p["config"], p["replaces"]) for p in listed["pipelines"]}
    assert origins == {"mine": (str(user), None), "orders": (str(project), str(user))}

    text = invoke("config", "list").stdout
    assert f"config file: {project} (in the working directory)\n" in text
    assert f"  merged over: {user} (the user config)\n" in text
    assert "  pipeline orders replaces the user config's whole [pipelines.orders]\n" in text
    rows = {line.split()[0]: line.split()[-2:] for line in text.splitlines() if "-dlq" in line}
    assert rows == {"mine": ["user", "config"], "orders": ["-", "./dlqctl.toml"]}

    shown = invoke("config", "show", "orders").stdout
    assert f"  pipeline orders is from {project}\n" in shown
    assert "  pipeline orders replaces the user config's whole [pipelines.orders]\n" in shown
    assert invoke_json("config", "show", "mine")["config"] == str(user)


def test_a_named_config_is_the_only_file_read(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = write(user_config(), '[pipelines.mine]\ndlq = "mine-dlq"\n')
    write(project, '[pipelines.team]\ndlq = "team-dlq"\n')
    named = write(tmp_path / "elsewhere" / "named.toml", '[pipelines.named]\ndlq = "named-dlq"\n')
    by_flag = invoke_json("config", "list", "--config", str(named))
    assert by_flag["config_files"] == [{"path": str(named), "source": "--config"}]
    assert by_flag["not_read"] == [str(project), str(user)]
    assert [p["name"] for p in by_flag["pipelines"]] == ["named"]
    text = invoke("config", "list", "--config", str(named)).stdout
    assert f"not read: {user} (--config names the only file read)" in text
    monkeypatch.setenv("DLQCTL_CONFIG", str(named))
    by_env = invoke_json("config", "list")
    assert (by_env["config_source"], by_env["not_read"]) == (
        "DLQCTL_CONFIG",
        [str(project), str(user)],
    )
    unknown = invoke("inspect", "--pipeline", "mine", expect=2).stderr
    assert unknown == f"dlqctl: error: unknown pipeline 'mine' in {named}; known: named\n"


@pytest.mark.parametrize(
    ("broken", "text", "problem"),
    [
        ("user", "[defaults\n", "is not valid TOML"),
        ("project", "[defaults\n", "is not valid TOML"),
        ("user", "[defaults]\nregoin = 'x'\n", "defaults.regoin: Extra inputs are not permitted"),
        (
            "project",
            "[pipelines.a]\ndlq = 'a'\nendpoint_url = 'nope'\n",
            "pipelines.a.endpoint_url",
        ),
        ("project", "[defaults]\nmax_attempts = 99\n", "defaults.max_attempts: Input should be"),
    ],
)
def test_every_config_error_names_its_file(
    aws: None, project: Path, broken: str, text: str, problem: str
) -> None:
    files = {"user": user_config(), "project": project}
    for name, path in files.items():
        write(path, text if name == broken else '[pipelines.fine]\ndlq = "fine-dlq"\n')
    for args in (("config", "list"), ("inspect", "orders-dlq"), ("queues",)):
        error = invoke(*args, expect=2).stderr
        assert error.startswith(f"dlqctl: error: config file {files[broken]}"), error
        assert problem in error and error.count("\n") == 1


def test_an_unknown_pipeline_names_every_file_read(aws: None, project: Path) -> None:
    user = write(user_config(), '[pipelines.mine]\ndlq = "mine-dlq"\n')
    write(project, '[pipelines.team]\ndlq = "team-dlq"\n')
    expected = f"unknown pipeline 'nope' in {project} and {user}; known: mine, team"
    assert (
        invoke("inspect", "--pipeline", "nope", expect=2).stderr == f"dlqctl: error: {expected}\n"
    )
    assert invoke("config", "show", "nope", expect=2).stderr == f"dlqctl: error: {expected}\n"


def test_a_bad_variable_or_flag_is_named(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLQCTL_MAX_SCAN", "lots")
    error = invoke("inspect", "orders-dlq", expect=2).stderr
    assert error.startswith("dlqctl: error: invalid setting: DLQCTL_MAX_SCAN: Input should be")
    monkeypatch.delenv("DLQCTL_MAX_SCAN")
    error = invoke("inspect", "orders-dlq", "--endpoint-url", "nope", expect=2).stderr
    assert error.startswith("dlqctl: error: invalid setting: --endpoint-url: 'nope' is not a URL")


# Where each region of the documented order comes from, highest first.
REGIONS = {
    "--region": "eu-west-1",
    "DLQCTL_REGION": "eu-west-2",
    "pipeline": "eu-west-3",
    "[defaults]": "eu-central-1",
    "AWS_REGION": "us-west-1",
    "AWS_DEFAULT_REGION": "us-west-2",
    "profile": "ap-south-1",
}


def test_region_order_is_the_documented_one(
    aws: None, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--region > DLQCTL_REGION > the pipeline's > [defaults] > AWS_REGION >
    AWS_DEFAULT_REGION > the profile's (docs/configuration.md)."""
    for region in REGIONS.values():
        boto3.client("sqs", region_name=region).create_queue(QueueName=f"in-{region}-dlq")
    aws_config = Path(os.environ["AWS_CONFIG_FILE"])
    write(aws_config, f"[profile ops]\nregion = {REGIONS['profile']}\n")
    monkeypatch.setenv("AWS_PROFILE", "ops")
    monkeypatch.setenv("AWS_REGION", REGIONS["AWS_REGION"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGIONS["AWS_DEFAULT_REGION"])
    monkeypatch.setenv("DLQCTL_REGION", REGIONS["DLQCTL_REGION"])
    write(
        project,
        f'[defaults]\nregion = "{REGIONS["[defaults]"]}"\n\n'
        f'[pipelines.p]\ndlq = "p-dlq"\nregion = "{REGIONS["pipeline"]}"\n',
    )

    def listed(*args: str) -> list[str]:
        return [queue["name"] for queue in invoke_json("queues", "--all", *args)["queues"]]

    def seen(region: str) -> list[str]:
        return [f"in-{region}-dlq"]

    assert listed("--pipeline", "p", "--region", REGIONS["--region"]) == seen(REGIONS["--region"])
    assert listed("--pipeline", "p") == seen(REGIONS["DLQCTL_REGION"])
    monkeypatch.delenv("DLQCTL_REGION")
    assert listed("--pipeline", "p") == seen(REGIONS["pipeline"])
    assert listed() == seen(REGIONS["[defaults]"])
    project.unlink()
    assert listed() == seen(REGIONS["AWS_REGION"])
    monkeypatch.delenv("AWS_REGION")
    assert listed() == seen(REGIONS["AWS_DEFAULT_REGION"])
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert listed() == seen(REGIONS["profile"])
