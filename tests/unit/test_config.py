from pathlib import Path

import pytest

from dlqctl.config import (
    MergedConfig,
    config_path,
    config_sources,
    load_config,
    read_config,
    resolve_settings,
)
from dlqctl.errors import ConfigError, UsageError

GOOD = """
[defaults]
region = "eu-west-1"
retry_mode = "adaptive"
max_scan = 500

[[defaults.rules]]
when = "error"
error_type = "Generic"

[pipelines.orders]
dlq = "orders-dlq"
source_queue = "orders"
ledger_table = "orders-ledger"
error_type_attribute = "FailureKind"

[[pipelines.orders.rules]]
when = "error.code == 'E42'"
error_type = "Validation"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dlqctl.toml"
    path.write_text(text)
    return path


def read(tmp_path: Path, text: str) -> MergedConfig:
    """`text` as the one config file read, as --config names it."""
    return read_config(str(write(tmp_path, text)), {})


def test_pipeline_settings_layer_over_defaults(tmp_path: Path) -> None:
    settings = resolve_settings({}, {}, read(tmp_path, GOOD), "orders")
    assert (settings.region, settings.retry_mode, settings.max_scan) == (
        "eu-west-1",
        "adaptive",
        500,
    )
    assert (settings.dlq, settings.source_queue, settings.ledger_table) == (
        "orders-dlq",
        "orders",
        "orders-ledger",
    )
    assert settings.error_type_attribute == "FailureKind"
    assert [r.error_type for r in settings.rules] == ["Validation", "Generic"]


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    config = read(tmp_path, GOOD)
    assert resolve_settings({}, {}, config).region == "eu-west-1"
    assert resolve_settings({}, {"DLQCTL_REGION": "us-west-2"}, config).region == "us-west-2"
    assert (
        resolve_settings({"region": "ap-south-1"}, {"DLQCTL_REGION": "us-west-2"}, config).region
        == "ap-south-1"
    )
    assert resolve_settings({"region": None}, {}, config).region == "eu-west-1"
    assert resolve_settings({}, {}, None).max_scan == 10_000


def test_pipeline_from_the_environment(tmp_path: Path) -> None:
    settings = resolve_settings({}, {"DLQCTL_PIPELINE": "orders"}, read(tmp_path, GOOD))
    assert settings.pipeline == "orders" and settings.dlq == "orders-dlq"


def test_unknown_pipeline_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(UsageError) as caught:
        resolve_settings({}, {}, read_config(str(path), {}), "billing")
    assert caught.value.message == f"unknown pipeline 'billing' in {path}; known: orders"
    with pytest.raises(UsageError, match=r"'billing' \(there is no config file\); known: none"):
        resolve_settings({}, {}, None, "billing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[defaults\nregion=1", "not valid TOML"),
        ("[defaults]\nregoin = 'x'", r"defaults\.regoin: Extra inputs are not permitted"),
        ("[pipelines.a]\nsource_queue = 'x'", r"pipelines\.a\.dlq: Field required"),
        ("[defaults]\nretry_mode = 'fast'", r"defaults\.retry_mode"),
        ("[[defaults.rules]]\nwhen = 'a.['\nerror_type = 'X'", "invalid JMESPath"),
        ("[defaults]\nmax_scan = 0", r"defaults\.max_scan"),
    ],
)
def test_bad_config_files_name_the_file_and_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(path) in caught.value.message


def test_a_config_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[defaults]\nregion = '\xff'\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text: save it as UTF-8"):
        load_config(path)


def test_a_bad_value_is_reported_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid setting: DLQCTL_MAX_ATTEMPTS: Input should"):
        resolve_settings({}, {"DLQCTL_MAX_ATTEMPTS": "many"})
    # The file's bounds hold for a variable too.
    with pytest.raises(ConfigError, match="DLQCTL_MAX_ATTEMPTS: Input should be less than or"):
        resolve_settings({}, {"DLQCTL_MAX_ATTEMPTS": "21"})
    with pytest.raises(ConfigError, match="invalid setting: --endpoint-url: 'foo' is not a URL"):
        resolve_settings({"endpoint_url": "foo"}, {})
    # In a file, the same value is caught as the file is read, with the file and the key.
    path = write(tmp_path, '[pipelines.a]\ndlq = "a"\nendpoint_url = "foo"\n')
    with pytest.raises(
        ConfigError, match=r"pipelines\.a\.endpoint_url: 'foo' is not a URL"
    ) as caught:
        load_config(path)
    assert caught.value.message.startswith(f"config file {path}: ")


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "xdg" / "dlqctl" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert [(s.path, s.origin) for s in config_sources(None, env)] == [(user, "user_config")]
    assert config_path(None, env) == user
    local = write(tmp_path, "")
    # Both are read, the project file last: it wins, and writes go to it.
    assert [(s.path, s.origin) for s in config_sources(None, env)] == [
        (user, "user_config"),
        (local, "working_directory"),
    ]
    assert config_path(None, env) == local
    # A named file is the only one read.
    assert [(s.path, s.origin) for s in config_sources(str(user), env)] == [(user, "--config")]
    named = config_sources(None, {**env, "DLQCTL_CONFIG": str(user)})
    assert [(s.path, s.origin) for s in named] == [(user, "DLQCTL_CONFIG")]
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist: create it or drop --config"):
        config_sources(str(tmp_path / "nope.toml"), env)
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist: create it or drop DLQCTL_"):
        config_sources(None, {"DLQCTL_CONFIG": str(tmp_path / "nope.toml")})


def test_no_config_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config_path(None, {"XDG_CONFIG_HOME": str(tmp_path)}) is None
    assert read_config(None, {"XDG_CONFIG_HOME": str(tmp_path)}) == MergedConfig()
    assert load_config(None).pipelines == {}
