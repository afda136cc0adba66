"""Issue 10's sweep of bad input, through the installed `dlqctl` against moto's server.

What a new user types at 03:00: each bad input gets the contract's exit code (docs/cli.md:
2 usage, 4 refused by a safety check, 5 not found), exactly one `dlqctl: error:` line on
stderr that names the fault and what to do (no traceback, no "unexpected"), writes no file,
and leaves every queue as it was — each case has queues of its own, read back with boto3
after the run. Input that is odd but not wrong (a string where `--query` compares a number,
a text body holding U+FFFD) gets the right answer and exit 0.

test_errors.py and test_redrive.py already pin, end to end, a bad duration and invalid
JMESPath for inspect/peek, malformed ARNs and names, unknown queues for inspect/peek/watch
and `redrive` without a filter; test_peek.py a reader gone before the first line;
tests/cli/test_bad_input.py pins several of these in process. This module takes each bad
input of the issue to the commands that act on queues, and ends with a real
`peek -o ndjson | head -1` over 200 messages.

Speed: a dlqctl process costs about a second, mostly imports. So the module seeds every
case's queues once and runs the cases SWEEP_WORKERS at a time against the session's moto
server; each test then reads its own case's outcome. The conftest's reset before each test
is turned off here (it would wipe the seeded queues); every queue this module makes is
named `sweep-…`, and the next module's first test resets the server.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.sqs.models import SQSBackend

from dlqctl.errors import ExitCode

from .conftest import (
    ENDPOINT_FLAG,
    REGION,
    RUN_TIMEOUT_S,
    ProxyTrap,
    Result,
    Runner,
    World,
    start_dlqctl,
)
from .test_streaming import fast_moto_clock as fast_moto_clock  # a fixture, used below

pytestmark = pytest.mark.e2e

SWEEP_WORKERS = 4  # dlqctl processes at once: each is mostly CPU (its imports), then waits
MOTO_ACCOUNT = "123456789012"  # the account moto's server answers for
OTHER_ACCOUNT = "999999999999"

# The README's own example, and a DLQ where one body has the total as a string.
QUERY = "order.total > `100`"
SMALL_ORDER = json.dumps({"order": {"total": 50}})
STRING_ORDER = json.dumps({"order": {"total": "150"}})
BIG_ORDER = json.dumps({"order": {"total": 200}})
# Valid UTF-8 that happens to hold the replacement character: text, not binary.
REPLACEMENT_BODY = "caf\u00e9 \ufffd: the upstream could not decode a byte"
DLQ_BODIES = [SMALL_ORDER, STRING_ORDER, BIG_ORDER, REPLACEMENT_BODY]
PLAIN_BODY = "an audit line, in a queue that no queue dead-letters to"

# Each case's working directory holds exactly these files before dlqctl runs, and after.
CONFIG_FILE = "dlqctl.toml"
EMPTY_IDS_FILE = "empty-ids.txt"
JOURNAL_FILE = "journal.jsonl"  # one run's start, then three lines nobody can read
JOURNAL = (
    json.dumps({"run_id": "r1", "kind": "start", "time": "2026-12-01T00:00:00+00:00"})
    + '\nnot json\n[1, 2]\n{"torn": '
)
UNREADABLE_JOURNAL_LINES = 3
SEEDED_FILES = (CONFIG_FILE, EMPTY_IDS_FILE, JOURNAL_FILE)
CONFIG = f"""\
[pipelines.orders]
dlq = "{{dlq}}"
source_queue = "{{source}}"

[[pipelines.orders.rules]]
when = "{QUERY}"
error_type = "BigOrder"
"""


@pytest.fixture(autouse=True)
def _moto_reset() -> None:
    """Replaces the conftest's reset before each test: the sweep's queues are seeded once
    for the module, and each case only ever touches its own."""


# -- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One dlqctl run. In `args`, {dlq}, {source} and {plain} name this call's queues (a
    DLQ, the queue it serves, and a queue that is nobody's DLQ), {other_arn} is the DLQ's
    ARN in another account, and {dir} is the run's working directory."""

    id: str
    args: tuple[str, ...]
    endpoint: bool = True  # add --endpoint-url of moto's server


@dataclass(frozen=True, kw_only=True)
class Bad(Call):
    """A bad input: its exit code and what the one error line must contain."""

    code: ExitCode
    says: tuple[str, ...]  # the fault, and what to do about it
    report: bool = False  # a run that had started prints its report on stdout first


REDRIVE = ("redrive", "{dlq}", "--all", "--yes")
PURGE = ("purge", "{dlq}", "--all", "--yes")
NOT_FOUND_HINT = "`dlqctl queues --all` lists what is there"
MISSING_DIR_HINT = "/missing/dir does not exist; create it first"

BAD_INPUTS = [
    # --query that is not JMESPath, where it selects what to move or delete.
    Bad(
        "invalid-query-redrive",
        ("redrive", "{dlq}", "--query", "[[", "--yes"),
        code=ExitCode.USAGE,
        says=("invalid JMESPath in --query '[['", "position 2"),
    ),
    Bad(
        "endpoint-not-a-url",
        (*REDRIVE, "--endpoint-url", "not-a-url"),
        endpoint=False,
        code=ExitCode.USAGE,
        says=("'not-a-url' is not a URL", "give one such as http://127.0.0.1:4566"),
    ),
    Bad(
        "history-journal-is-a-directory",
        ("history", "--journal", "{dir}"),
        endpoint=False,
        code=ExitCode.USAGE,
        says=("is a directory: pass the journal file", "journal.jsonl"),
    ),
    Bad(
        "canary-negative",
        (*REDRIVE, "--canary", "-1"),
        code=ExitCode.USAGE,
        says=("--canary must be 0 (no canary) or a number of messages",),
    ),
    Bad(
        "max-age-banana",
        ("redrive", "{dlq}", "--max-age", "banana", "--yes"),
        code=ExitCode.USAGE,
        says=("invalid duration 'banana'", "like 90s, 15m, 2h"),
    ),
    Bad(
        "min-age-above-max-age",
        ("redrive", "{dlq}", "--min-age", "2h", "--max-age", "1h", "--yes"),
        code=ExitCode.USAGE,
        says=("--min-age is larger than --max-age",),
    ),
    # The DLQ's ARN, but in another account: never this account's queue of that name
    # (peek's twin is in tests/cli/test_bad_input.py).
    Bad(
        "arn-of-another-account",
        ("redrive", "{other_arn}", "--all", "--yes"),
        code=ExitCode.NOT_FOUND,
        says=(f"account {OTHER_ACCOUNT} not found", MOTO_ACCOUNT, "check the ARN"),
    ),
    # A file to write into a directory that does not exist (under this case's own
    # directory, so a wrong answer creates nothing outside it).
    Bad(
        "export-out-missing-directory",
        ("export", "{dlq}", "--out", "{dir}/missing/dir/f.jsonl"),
        code=ExitCode.USAGE,
        says=("--out", MISSING_DIR_HINT),
    ),
    Bad(
        "purge-archive-missing-directory",
        (*PURGE, "--archive", "{dir}/missing/dir/f.jsonl"),
        code=ExitCode.USAGE,
        says=("--archive", MISSING_DIR_HINT),
    ),
    Bad(
        "message-ids-from-missing-file",
        ("redrive", "{dlq}", "--message-ids-from", "{dir}/no-such-ids.txt", "--yes"),
        code=ExitCode.USAGE,
        says=("cannot read --message-ids-from", "no-such-ids.txt"),
    ),
    Bad(
        "message-ids-from-empty-file",
        ("purge", "{dlq}", "--message-ids-from", f"{{dir}}/{EMPTY_IDS_FILE}", "--yes"),
        code=ExitCode.USAGE,
        says=("names no message id", "one id a line"),
    ),
    # Names that are not there.
    Bad(
        "unknown-queue",
        ("purge", "no-such-dlq", "--all", "--yes"),
        code=ExitCode.NOT_FOUND,
        says=("queue 'no-such-dlq' not found", NOT_FOUND_HINT),
    ),
    Bad(
        "unknown-target-queue",
        (*REDRIVE, "--to", "no-such-queue"),
        code=ExitCode.NOT_FOUND,
        says=("queue 'no-such-queue' not found", NOT_FOUND_HINT),
    ),
    Bad(
        "unknown-pipeline",
        ("redrive", "--pipeline", "nope", "--all", "--yes"),
        code=ExitCode.USAGE,
        says=("unknown pipeline 'nope'", "orders"),  # and names the pipelines there are
    ),
    # Deleting without a filter (redrive's twin is in test_redrive.py).
    *(
        Bad(
            f"no-filter-{args[0]}",
            args,
            code=ExitCode.REFUSED,
            says=("refusing to delete without a filter", "--all if you really mean"),
        )
        for args in (
            ("purge", "{dlq}", "--yes"),
            ("export", "{dlq}", "--delete", "--yes", "--out", "{dir}/out.jsonl"),
        )
    ),
    # Caps and pacing out of range.
    *(
        Bad(
            f"max-messages-{value}-{args[0]}",
            (*args, "--max-messages", value),
            code=ExitCode.USAGE,
            says=("--max-messages must be at least 1",),
        )
        for args, value in ((REDRIVE, "0"), (PURGE, "-1"))
    ),
    Bad(
        "max-messages-above-1000",
        (*REDRIVE, "--max-messages", "5000"),
        code=ExitCode.REFUSED,
        says=("--max-messages 5000 is above 1000", "add --force"),
    ),
    Bad(
        "batch-size-11",
        (*REDRIVE, "--batch-size", "11"),
        code=ExitCode.USAGE,
        says=("--batch-size must be 1 to 10",),
    ),
    Bad(
        "rate-0",
        (*REDRIVE, "--rate", "0"),
        code=ExitCode.USAGE,
        says=("--rate must be a positive number of messages a second",),
    ),
    Bad(
        "jitter-2h",
        (*REDRIVE, "--jitter", "2h"),
        code=ExitCode.USAGE,
        says=("--jitter must be between 0s and 15m",),
    ),
    # A queue that is nobody's DLQ, where redrive needs to know where messages go. A run
    # receives before it can tell (a message may name its source), so it reports first.
    Bad(
        "not-a-dlq",
        ("redrive", "{plain}", "--all", "--yes"),
        code=ExitCode.REFUSED,
        says=("no queue names it as its DLQ", "pass --to QUEUE"),
        report=True,
    ),
    Bad(
        "not-a-dlq-dry-run",
        ("redrive", "{plain}", "--all", "--dry-run"),
        code=ExitCode.REFUSED,
        says=("no queue names it as its DLQ", "pass --to QUEUE"),
    ),
]

QUERY_CALLS = [
    Call("string-total-peek", ("peek", "{dlq}", "--query", QUERY, "-o", "json")),
    Call("string-total-inspect", ("inspect", "{dlq}", "--query", QUERY, "-o", "json")),
    Call(
        "string-total-redrive-dry-run",
        ("redrive", "{dlq}", "--query", QUERY, "--dry-run", "-o", "json"),
    ),
]
RULE_CALL = Call("string-total-rule", ("inspect", "--pipeline", "orders", "-o", "json"))
# Not an argument but a file gone bad: `history` must say it skipped lines, not hide them.
JOURNAL_CALL = Call(
    "history-unreadable-lines",
    ("history", "--journal", f"{{dir}}/{JOURNAL_FILE}", "-o", "json"),
    endpoint=False,
)
REPLACEMENT_CALL = Call("replacement-character", ("peek", "{dlq}", "-o", "json"))


# -- running them ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One call's queues, its working directory, and how its run ended."""

    world: World
    cwd: Path
    dlq: str
    result: Result

    def id_of(self, body: str) -> str:
        (message_id,) = [i for i, b in self.world.expected[self.dlq].items() if b == body]
        return message_id

    def assert_intact(self) -> None:
        """Every seeded message still there, unchanged and visible; no file written."""
        self.world.assert_intact()
        left = sorted(path.name for path in self.cwd.iterdir())
        assert left == sorted(SEEDED_FILES), f"files written: {left}"


def _fill(text: str, values: dict[str, str]) -> str:
    """`{name}` placeholders replaced; JMESPath's brackets and backticks left alone."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _seed_and_run(call: Call, sqs: Any, runner: Runner) -> Outcome:
    """The call's own queues and files, then the call."""
    world = World(sqs)
    source = f"sweep-{call.id}"
    names = {"dlq": f"{source}-dlq", "source": source, "plain": f"{source}-plain"}
    world.create(names["dlq"])
    world.create(source, dlq=names["dlq"])
    world.create(names["plain"])
    world.send_many(names["dlq"], DLQ_BODIES)
    world.send(names["plain"], PLAIN_BODY)
    files = {CONFIG_FILE: _fill(CONFIG, names), EMPTY_IDS_FILE: "", JOURNAL_FILE: JOURNAL}
    for name, text in files.items():
        (runner.cwd / name).write_text(text, encoding="utf-8")
    values = {
        **names,
        "other_arn": f"arn:aws:sqs:{REGION}:{OTHER_ACCOUNT}:{names['dlq']}",
        "dir": str(runner.cwd),
    }
    args = [_fill(arg, values) for arg in call.args]
    result = runner(*args, endpoint=ENDPOINT_FLAG if call.endpoint else None)
    return Outcome(world, runner.cwd, names["dlq"], result)


def _selected_calls(request: pytest.FixtureRequest) -> list[Call]:
    """The calls of this module's tests that pytest will run (all, or what -k kept)."""
    calls: dict[str, Call] = {}
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.path == request.path and callspec is not None:
            call = callspec.params.get("call")
            if isinstance(call, Call):
                calls[call.id] = call
    return list(calls.values())


@pytest.fixture(scope="module")
def sweep(
    request: pytest.FixtureRequest,
    moto_endpoint: str,
    proxy_trap: ProxyTrap,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[Outcome]]]:
    """Every selected call, SWEEP_WORKERS at a time; a test waits for its own."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with ThreadPoolExecutor(SWEEP_WORKERS) as pool:
        yield {
            call.id: pool.submit(
                _seed_and_run,
                call,
                sqs,
                Runner(moto_endpoint, tmp_path_factory.mktemp(call.id), proxy_trap),
            )
            for call in _selected_calls(request)
        }


def _assert_one_error_line(result: Result, bad: Bad) -> str:
    assert result.code == bad.code, result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    assert "unexpected" not in result.stderr, result.describe()
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.describe()
    assert lines[0].startswith("dlqctl: error: "), result.describe()
    if not bad.report:
        assert result.stdout == "", result.describe()
    return lines[0]


def _assert_no_error(result: Result) -> None:
    for word in ("Traceback", "unexpected", "error:"):
        assert word not in result.stderr, result.describe()


def _assert_says_what_was_not_evaluated(document: dict[str, Any]) -> None:
    """The string total counts as not evaluated, with its reason (issue 10, point 1)."""
    because = document["coverage"]["unevaluated_because"]
    reasons = [reason for reason in because if "compares a string with a number" in reason]
    assert len(reasons) == 1 and because[reasons[0]] == 1, document["coverage"]


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("call", BAD_INPUTS, ids=lambda call: call.id)
def test_bad_input_is_one_line_and_changes_nothing(
    sweep: dict[str, Future[Outcome]], call: Bad
) -> None:
    outcome = sweep[call.id].result()
    line = _assert_one_error_line(outcome.result, call)
    for words in call.says:
        assert words in line, f"{words!r} missing from: {line}"
    outcome.assert_intact()


@pytest.mark.parametrize("call", QUERY_CALLS, ids=lambda call: call.id)
def test_a_string_where_the_query_compares_a_number_does_not_match(
    sweep: dict[str, Future[Outcome]], call: Call
) -> None:
    """`"total": "150"` against `100` is no match (JMESPath orders numbers only); the
    other messages are judged as usual and nothing crashes."""
    outcome = sweep[call.id].result()
    document = outcome.result.json()
    _assert_no_error(outcome.result)
    big = outcome.id_of(BIG_ORDER)
    if call.args[0] == "peek":
        assert document["matched"] == 1, document
        assert [m["message_id"] for m in document["messages"]] == [big]
    elif call.args[0] == "inspect":
        assert document["matched"] == 1, document
        assert [row["sample_ids"] for row in document["by_error_type"]] == [[big]]
    else:
        assert document["selected"] == 1, document
        assert [p["message_id"] for p in document["planned"]] == [big]
    _assert_says_what_was_not_evaluated(document)
    outcome.assert_intact()


@pytest.mark.parametrize("call", [RULE_CALL], ids=lambda call: call.id)
def test_a_config_rule_with_a_string_where_it_compares_a_number(
    sweep: dict[str, Future[Outcome]], call: Call
) -> None:
    """The same comparison as an error-type rule: for that message no rule matched."""
    outcome = sweep[call.id].result()
    document = outcome.result.json()
    _assert_no_error(outcome.result)
    rows = {row["error_type"]: row for row in document["by_error_type"]}
    assert {name: row["count"] for name, row in rows.items()} == {"BigOrder": 1, "Unknown": 3}
    assert rows["BigOrder"]["sample_ids"] == [outcome.id_of(BIG_ORDER)]
    _assert_says_what_was_not_evaluated(document)
    outcome.assert_intact()


@pytest.mark.parametrize("call", [JOURNAL_CALL], ids=lambda call: call.id)
def test_unreadable_journal_lines_are_counted(
    sweep: dict[str, Future[Outcome]], call: Call
) -> None:
    outcome = sweep[call.id].result()
    assert outcome.result.json()["unreadable_lines"] == UNREADABLE_JOURNAL_LINES
    _assert_no_error(outcome.result)
    lines = outcome.result.stderr.splitlines()
    assert len(lines) == 1, f"one warning line, not wrapped: {outcome.result.describe()}"
    assert f"{UNREADABLE_JOURNAL_LINES} lines of" in lines[0] and "skipped" in lines[0], lines
    outcome.assert_intact()


@pytest.mark.parametrize("call", [REPLACEMENT_CALL], ids=lambda call: call.id)
def test_a_utf8_body_with_a_replacement_character_is_text(
    sweep: dict[str, Future[Outcome]], call: Call
) -> None:
    """U+FFFD is a character like any other: the body decodes as UTF-8, so it is text."""
    outcome = sweep[call.id].result()
    messages = {m["message_id"]: m for m in outcome.result.json()["messages"]}
    _assert_no_error(outcome.result)
    shown = messages[outcome.id_of(REPLACEMENT_BODY)]
    assert (shown["body_encoding"], shown["body"]) == ("text", REPLACEMENT_BODY)
    outcome.assert_intact()


# -- a real pipe: `dlqctl peek Q -o ndjson | head -1` ------------------------------------

PIPE_DLQ = "sweep-pipe-dlq"
PIPE_DEPTH = 200
RELEASE_DEADLINE_S = 15.0  # dlqctl releases its holds on the way out; far less than a hold


@dataclass
class Deliveries:
    """How many messages moto's server (a thread of this process) has handed out from
    one queue so far."""

    queue: str
    count: int = 0


def _count_deliveries(monkeypatch: pytest.MonkeyPatch, queue: str) -> Deliveries:
    deliveries = Deliveries(queue)
    receive = SQSBackend.receive_message

    def counting(backend: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        messages = receive(backend, queue_name, *args, **kwargs)
        if queue_name == queue:
            deliveries.count += len(messages)
        return messages

    monkeypatch.setattr(SQSBackend, "receive_message", counting)
    return deliveries


@pytest.mark.only_on("moto", reason="counts deliveries inside moto's in-process server")
@pytest.mark.usefixtures("fast_moto_clock")  # 200 messages: moto's clock is the slow part
def test_peek_ndjson_into_head_exits_0_and_releases_everything(
    dlqctl: Runner, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader quits after one line: dlqctl ends quietly with exit 0, everything it held
    is visible again, and (with -o ndjson streaming) that line came before the scan ended."""
    world.create(PIPE_DLQ)
    world.create("sweep-pipe", dlq=PIPE_DLQ)
    world.send_many(PIPE_DLQ, [json.dumps({"n": n}) for n in range(PIPE_DEPTH)])
    deliveries = _count_deliveries(monkeypatch, PIPE_DLQ)

    peek = start_dlqctl(dlqctl, "peek", PIPE_DLQ, "-o", "ndjson")
    assert peek.proc.stdout is not None
    head = subprocess.Popen(["head", "-1"], stdin=peek.proc.stdout, stdout=subprocess.PIPE)
    peek.proc.stdout.close()  # head holds the read end alone: when it quits, the pipe closes
    assert head.stdout is not None
    first = head.stdout.readline()
    received_before_first_line = deliveries.count
    assert head.wait(timeout=RUN_TIMEOUT_S) == 0
    head.stdout.close()
    result = peek.finish()

    assert result.code == 0, result.describe()
    for word in ("Traceback", "BrokenPipe", "unexpected", "error"):
        assert word not in result.stderr, result.describe()
    assert json.loads(first)["message_id"] in world.expected[PIPE_DLQ]

    deadline = time.monotonic() + RELEASE_DEADLINE_S
    while world.counts(PIPE_DLQ) != (PIPE_DEPTH, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert world.counts(PIPE_DLQ) == (PIPE_DEPTH, 0), "visible, held after dlqctl exited"

    assert received_before_first_line < PIPE_DEPTH, (
        f"head got its line only after dlqctl had received {received_before_first_line} "
        f"messages of {PIPE_DEPTH}: -o ndjson printed nothing until the scan ended"
    )
