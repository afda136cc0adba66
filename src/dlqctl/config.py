"""Settings: explicit flag > DLQCTL_* variable > --pipeline's table > config files > default.

The config files are the user config, `$XDG_CONFIG_HOME/dlqctl/config.toml` (default
`~/.config/dlqctl/config.toml`), and a project's `./dlqctl.toml` merged over it: its
`[defaults]` key by key, its pipelines whole (docs/configuration.md). `--config FILE` or
`DLQCTL_CONFIG` names the one file read instead. They hold defaults and named pipelines.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dlqctl.core.jmes import describe
from dlqctl.errors import ConfigError, UsageError
from dlqctl.models import DlqKind
from dlqctl.pipeline import spec

RetryMode = Literal["standard", "adaptive"]

DEFAULT_MAX_SCAN = 10_000
# Measured on the simulated transport at 20 ms a request (docs/performance.md): 16 lanes
# reach 2,600 msg/s for a scan and 1,250 for a redrive; small queues use fewer.
DEFAULT_CONCURRENCY = 16
# The project config, relative to the working directory.
PROJECT_CONFIG = Path("dlqctl.toml")


class ErrorTypeRule(BaseModel):
    """`when` is JMESPath over the JSON body; the first truthy rule names the type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str
    error_type: str = Field(min_length=1)

    @field_validator("when")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            jmespath.compile(value)
        except JMESPathError as exc:
            raise ValueError(f"invalid JMESPath: {describe(exc)}") from None
        return value


LedgerFormat = Literal["dlqctl", "powertools"]


def _check_url(value: str | None) -> str | None:
    if value and not re.match(r"https?://[^/\s]+", value):
        raise ValueError(
            f"{value!r} is not a URL: give one such as http://127.0.0.1:4566 or https://sqs.eu-west-1.amazonaws.com"
        )
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    ledger_table: str | None = None
    # "powertools": ledger_table is a Powertools idempotency table (docs/dlq-kinds.md):
    # the function's name and its decorated function (module.qualname), or the key prefix,
    # say how Powertools names its records; the key JMESPath what it hashes.
    ledger_format: LedgerFormat | None = None
    ledger_function: str | None = None
    ledger_handler: str | None = None
    ledger_key_prefix: str | None = None
    ledger_key_jmespath: str | None = None
    ledger_payload: Literal["event", "sqs-record"] | None = None
    ledger_hash_function: str | None = None
    ledger_sort_key: str | None = None
    error_type_attribute: str | None = None
    worker_timeout_s: int | None = Field(default=None, gt=0)
    # The event source's batching window: a failed copy waits it out on each receive.
    batching_window_s: int | None = Field(default=None, ge=0, le=300)
    concurrency: int | None = Field(default=None, ge=1, le=32)
    rules: list[ErrorTypeRule] = Field(default_factory=list)

    endpoint_is_url = field_validator("endpoint_url")(_check_url)


class Defaults(_Section):
    retry_mode: RetryMode | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    max_scan: int | None = Field(default=None, ge=1)
    receive_wait_s: int | None = Field(default=None, ge=0, le=20)
    hold_s: int | None = Field(default=None, ge=1, le=43_200)


class Pipeline(_Section):
    dlq: str
    source_queue: str | None = None
    # Who fills the DLQ, when its messages cannot say (docs/dlq-kinds.md), and what they
    # failed to reach: a function's ARN (lambda-async), a topic's (raw SNS delivery).
    kind: DlqKind | None = None
    original_target: str | None = None


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: Defaults = Field(default_factory=Defaults)
    pipelines: dict[str, Pipeline] = Field(default_factory=dict)


class Settings(BaseModel):
    """Everything a command needs to know, resolved once."""

    model_config = ConfigDict(frozen=True)

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int = Field(default=5, ge=1, le=20)
    ledger_table: str | None = None
    ledger_format: LedgerFormat = "dlqctl"
    ledger_function: str | None = None
    ledger_handler: str | None = None
    ledger_key_prefix: str | None = None
    ledger_key_jmespath: str | None = None
    ledger_payload: Literal["event", "sqs-record"] = "event"
    ledger_hash_function: str = "md5"
    ledger_sort_key: str | None = None
    error_type_attribute: str = spec.ERROR_TYPE_ATTRIBUTE
    worker_timeout_s: int = Field(default=spec.WORKER_TIMEOUT_S, gt=0)
    batching_window_s: int = Field(default=0, ge=0, le=300)
    max_scan: int = Field(default=DEFAULT_MAX_SCAN, ge=1)
    # Long polling: with 0, SQS may answer empty from a sample of its hosts.
    receive_wait_s: int = Field(default=1, ge=0, le=20)
    # How long a scan holds what it saw; None sizes the hold to the expected scan.
    hold_s: int | None = Field(default=None, ge=1, le=43_200)
    # Lanes: receives in flight at once, and as many sends, deletes or releases (a run
    # sends its next round of receives while it moves the round in hand).
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=32)
    rules: tuple[ErrorTypeRule, ...] = ()
    pipeline: str | None = None

    endpoint_is_url = field_validator("endpoint_url")(_check_url)

    dlq: str | None = None
    source_queue: str | None = None
    kind: DlqKind | None = None
    original_target: str | None = None


ConfigOrigin = Literal["--config", "DLQCTL_CONFIG", "working_directory", "user_config"]


@dataclass(frozen=True)
class ConfigSource:
    """A config file that is read, and how it was found."""

    path: Path  # absolute: it is shown, and compared with another file's
    origin: ConfigOrigin


def config_sources(explicit: str | None, env: Mapping[str, str]) -> tuple[ConfigSource, ...]:
    """The config files read, the one that wins last, each as an absolute path: the file
    --config or DLQCTL_CONFIG names, alone; else the user config and ./dlqctl.toml, those
    that exist."""
    named = explicit or env.get("DLQCTL_CONFIG")
    if named:
        path = Path(named).expanduser().absolute()
        if not path.is_file():
            what = "--config" if explicit else "DLQCTL_CONFIG"
            raise ConfigError(f"config file {path} does not exist: create it or drop {what}")
        return (ConfigSource(path, "--config" if explicit else "DLQCTL_CONFIG"),)
    found = (
        ConfigSource(user_config_path(env).absolute(), "user_config"),
        ConfigSource(PROJECT_CONFIG.absolute(), "working_directory"),
    )
    return tuple(source for source in found if source.path.is_file())


def config_path(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """The config file that wins, which is where a pipeline is written by default; None
    when there is no config file."""
    sources = config_sources(explicit, env)
    return sources[-1].path if sources else None


@dataclass(frozen=True)
class MergedConfig:
    """The config files read, merged, and which file each value came from."""

    files: tuple[ConfigSource, ...] = ()
    defaults: Defaults = field(default_factory=Defaults)
    pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    # The file each [defaults] key and each pipeline came from.
    default_files: Mapping[str, Path] = field(default_factory=dict)
    pipeline_files: Mapping[str, Path] = field(default_factory=dict)
    # A pipeline the project file replaces, and the user config that had it too.
    replaced: Mapping[str, Path] = field(default_factory=dict)

    def unknown_pipeline(self, name: str) -> UsageError:
        """The error for a pipeline none of the files has: the files, and what they have."""
        known = ", ".join(sorted(self.pipelines)) or "none"
        read = " and ".join(str(source.path) for source in reversed(self.files))
        where = f"in {read}" if read else "(there is no config file)"
        return UsageError(f"unknown pipeline {name!r} {where}; known: {known}")


def _merge(loaded: list[tuple[ConfigSource, ConfigFile]]) -> MergedConfig:
    """Each file over the ones before it: [defaults] key by key (`rules` is one key), a
    pipeline as a whole table, so none mixes queues from two files."""
    defaults = Defaults()
    pipelines: dict[str, Pipeline] = {}
    default_files: dict[str, Path] = {}
    pipeline_files: dict[str, Path] = {}
    replaced: dict[str, Path] = {}
    for source, config in loaded:
        given = config.defaults.model_fields_set
        defaults = defaults.model_copy(update={key: getattr(config.defaults, key) for key in given})
        default_files.update(dict.fromkeys(given, source.path))
        for name, pipeline in config.pipelines.items():
            if name in pipeline_files:
                replaced[name] = pipeline_files[name]
            pipelines[name] = pipeline
            pipeline_files[name] = source.path
    return MergedConfig(
        tuple(source for source, _ in loaded),
        defaults,
        pipelines,
        default_files,
        pipeline_files,
        replaced,
    )


def read_config(explicit: str | None, env: Mapping[str, str]) -> MergedConfig:
    """The config files a command reads (config_sources), each checked, then merged."""
    return _merge([(source, load_config(source.path)) for source in config_sources(explicit, env)])


def load_config(path: Path | None) -> ConfigFile:
    """One config file, checked: every error names the file."""
    if path is None:
        return ConfigFile()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"config file {path}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError, where: Mapping[str, str] | None = None) -> str:
    """The first problem, as `key: what is wrong`. `where` names, by top-level key, where
    a value came from (a flag, a variable, a file's table) in place of the bare key."""
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        named = where.get(loc[0]) if where and loc else None
        place = named + "".join(f".{part}" for part in loc[1:]) if named else ".".join(loc)
        problems.append(
            f"{place or '(top level)'}: {str(error['msg']).removeprefix('Value error, ')}"
        )
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


_ENV_NAMES = {
    "region": "DLQCTL_REGION",
    "profile": "DLQCTL_PROFILE",
    "endpoint_url": "DLQCTL_ENDPOINT_URL",
    "retry_mode": "DLQCTL_RETRY_MODE",
    "max_attempts": "DLQCTL_MAX_ATTEMPTS",
    "ledger_table": "DLQCTL_LEDGER_TABLE",
    "error_type_attribute": "DLQCTL_ERROR_TYPE_ATTRIBUTE",
    "max_scan": "DLQCTL_MAX_SCAN",
    "receive_wait_s": "DLQCTL_RECEIVE_WAIT_S",
    "hold_s": "DLQCTL_HOLD_S",
    "concurrency": "DLQCTL_CONCURRENCY",
}


def resolve_settings(
    flags: Mapping[str, object],
    env: Mapping[str, str] | None = None,
    config: MergedConfig | None = None,
    pipeline: str | None = None,
) -> Settings:
    """Merge the layers; a flag given as None means "not given"."""
    env = os.environ if env is None else env
    config = config or MergedConfig()
    pipeline = pipeline or env.get("DLQCTL_PIPELINE") or None
    # Each layer's values, and where each came from: a bad value is reported at its source.
    defaults = config.defaults.model_dump(exclude_none=True, exclude={"rules"})
    layers: list[tuple[Mapping[str, object], Mapping[str, str]]] = [
        (defaults, {k: f"config file {config.default_files[k]}: defaults.{k}" for k in defaults})
    ]
    chosen: Pipeline | None = None
    if pipeline is not None:
        chosen = config.pipelines.get(pipeline)
        if chosen is None:
            raise config.unknown_pipeline(pipeline)
        own = chosen.model_dump(exclude_none=True, exclude={"rules"})
        file = config.pipeline_files[pipeline]
        layers.append((own, {k: f"config file {file}: pipelines.{pipeline}.{k}" for k in own}))
    from_env = {key: env[name] for key, name in _ENV_NAMES.items() if env.get(name)}
    layers.append((from_env, {key: _ENV_NAMES[key] for key in from_env}))
    given = {key: value for key, value in flags.items() if value is not None}
    layers.append((given, {key: "--" + key.replace("_", "-") for key in given}))
    merged: dict[str, object] = {}
    where: dict[str, str] = {}
    for values, sources in layers:
        merged.update(values)
        where.update(sources)

    merged["rules"] = (*(chosen.rules if chosen else []), *config.defaults.rules)
    merged["pipeline"] = pipeline
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid setting: {_first_problem(exc, where)}") from None


def load_settings(
    flags: Mapping[str, object] | None = None,
    *,
    pipeline: str | None = None,
    config: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings as the CLI sees them: flags, DLQCTL_* variables, the config files."""
    env = os.environ if env is None else env
    return resolve_settings(flags or {}, env, read_config(config, env), pipeline)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dlqctl" / "config.toml"


def write_pipeline(
    name: str,
    fields: Mapping[str, str | int],
    path: Path | None = None,
    *,
    note: str | None = None,
) -> Path:
    """Add or replace `[pipelines.NAME]` in `path`, by default the config file that wins
    (config_path; else the user config), keeping everything else in it as it was. `note`
    becomes a comment under the table's header, so whoever wrote the table can recognise
    it later (see `pipeline_table`). The result is validated before it is saved."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise UsageError(f"invalid pipeline name {name!r}: use letters, digits, - and _")
    path = path or config_path(None, os.environ) or user_config_path()
    lines = [f"[pipelines.{name}]"]
    lines += [f"# {note}"] if note else []
    lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    rest, _ = _split_table(_read_text(path), f"pipelines.{name}")
    updated = (rest + "\n\n" if rest else "") + "\n".join(lines) + "\n"
    try:
        ConfigFile.model_validate(tomllib.loads(updated))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} would become invalid TOML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(
            f"config file {path} would become invalid: {_first_problem(exc)}"
        ) from None
    _write_text(path, updated)
    return path


def pipeline_table(name: str, path: Path) -> str | None:
    """`[pipelines.NAME]` as it is written in `path`, comments included; None if absent."""
    _, table = _split_table(_read_text(path), f"pipelines.{name}")
    return table


def remove_pipeline(name: str, path: Path) -> None:
    """Drop `[pipelines.NAME]` and its sub-tables from `path`, keeping everything else in
    it as it was. Not validated: taking a table out cannot break what is left."""
    rest, table = _split_table(_read_text(path), f"pipelines.{name}")
    if table is not None:
        _write_text(path, rest + "\n" if rest else "")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None


def _split_table(text: str, name: str) -> tuple[str, str | None]:
    """`text` without the [name] table (and its sub-tables), and that table's own text
    (None when there is none). A table runs to the next header, except that comments
    just above that header introduce the next table and stay with it."""
    kept: list[str] = []
    taken: list[str] = []
    skipping = False
    for line in text.splitlines():
        header = line.strip()
        if header.startswith("["):
            current = header.strip("[]").strip()
            was_skipping, skipping = skipping, current == name or current.startswith(name + ".")
            if was_skipping and not skipping:
                kept.extend(_trailing_comments(taken))
        (taken if skipping else kept).append(line)
    table = "\n".join(taken).rstrip() if taken else None
    return "\n".join(kept).rstrip(), table


def _trailing_comments(lines: list[str]) -> list[str]:
    """Pop the comment lines (and blank lines among them) off the end of `lines`."""
    moved: list[str] = []
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        moved.insert(0, lines.pop())
    while moved and not moved[0].strip():  # blank lines before the comments stay behind
        lines.append(moved.pop(0))
    return moved
