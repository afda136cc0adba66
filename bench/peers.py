"""dlqctl beside the tools people use to redrive a DLQ, each on the HTTP-served simulator.

Every client moves the same kind of DLQ (1 KiB orders, each with one attribute of every
data type: bench/content.py RICH_TYPES) back to its source queue, from a fresh simulator
(`python -m bench.sim.serve`) of its own, as a separate program:

- dlqctl: `dlqctl redrive … --error-type Timeout --max-messages N --force --yes`
  (AWS_ENDPOINT_URL), its default lanes;
- the naive and batched boto3 loops of bench/baselines.py, over HTTP;
- the AWS CLI (`awscli` from PyPI): the shell loop of confine/awscli_redrive.sh;
- lumigo-cli (npm): `lumigo-cli replay-sqs-dlq`, its default 10 pollers;
- replay-aws-dlq (npm): `replay-aws-dlq FROM_URL TO_URL`.

The bench installs the three outside tools itself, pinned, into a cache directory
(`--peer-cache`, default ~/.cache/dlqctl-bench): a virtualenv for the AWS CLI, and
`npm install --prefix` for the two Node tools. One that cannot be installed or run is
listed with the reason, never left out.

Confinement: every client and every simulator runs inside a network namespace of its
own (`unshare -rn`, then `ip link set lo up`), where the only interface is loopback, so
nothing can leave the machine. Inside it, a preload refuses any connection to a host that
is not loopback as well (confine/loopback.js for Node, confine/sitecustomize.py for
Python); where no namespace can be made the preloads alone confine them, and the table
says so. lumigo-cli's analytics are replaced by a stub and its npm version check is
turned off (SKIP_VERSION_CHECK). aws-sdk v2 ignores AWS_ENDPOINT_URL: the Node preload
points its SQS clients at the simulator, whatever region they are built for.

Figures per client: SQS requests per message (the simulator's counters: every request,
empty receives and retries too), msg/s over the whole command (start-up included) and
over its active window (first request to last send or delete), the CPU of the client's
whole process tree and its largest process's peak RSS (wait4's rusage), and whether the
copies arrived with their bodies and each attribute type intact.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import baselines
from bench.content import DLQ, SOURCE
from bench.scenarios import REDRIVE_ERROR_TYPE

ROOT = Path(__file__).resolve().parent.parent
CONFINE = Path(__file__).resolve().parent / "confine"
DEFAULT_CACHE = Path.home() / ".cache" / "dlqctl-bench"
REGION = "us-east-1"
AWSCLI = "awscli==1.46.3"
NPM_PACKAGES = ("lumigo-cli@0.48.4", "replay-aws-dlq@1.0.1")
TIMEOUT_S = 600  # per client: a hung peer is listed as such, not waited on forever
INSTALL_TIMEOUT_S = 900

# Messages each client moves (its DLQ's whole depth). The slow clients get fewer: their
# rates do not depend on depth, and the AWS CLI pays a CLI start per request.
SIZES = {
    "full": {
        "dlqctl": 5_000,
        "naive": 200,
        "batched": 1_000,
        "aws-cli": 100,
        "lumigo-cli": 2_000,
        "replay-aws-dlq": 200,
    },
    "quick": {
        "dlqctl": 1_000,
        "naive": 100,
        "batched": 500,
        "aws-cli": 50,
        "lumigo-cli": 500,
        "replay-aws-dlq": 100,
    },
}


@dataclass(frozen=True)
class Tools:
    """Where the installed peers are; a reason instead of a path where one is missing."""

    aws: Path | None
    npm_bin: Path | None
    missing: dict[str, str]


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    how: str  # what the row ran, for the table's notes
    command: Callable[[Tools, str, str, str, int], list[str]]  # tools, endpoint, dlq, src, n
    node: bool = False
    outside: bool = True  # a tool people use, not dlqctl or one of the bench's own loops


def _dlqctl(tools: Tools, endpoint: str, dlq: str, source: str, n: int) -> list[str]:
    return [
        str(Path(sys.executable).with_name("dlqctl")),
        "redrive",
        DLQ,
        "--error-type",
        REDRIVE_ERROR_TYPE,
        "--max-messages",
        str(n),
        "--force",
        "--yes",
        "-o",
        "json",
    ]


def _loop(impl: str) -> Callable[[Tools, str, str, str, int], list[str]]:
    def command(tools: Tools, endpoint: str, dlq: str, source: str, n: int) -> list[str]:
        return [sys.executable, "-m", "bench.peers", "loop", impl, endpoint, dlq, source, str(n)]

    return command


def _aws_cli(tools: Tools, endpoint: str, dlq: str, source: str, n: int) -> list[str]:
    return ["bash", str(CONFINE / "awscli_redrive.sh"), dlq, source, str(n)]


def _lumigo(tools: Tools, endpoint: str, dlq: str, source: str, n: int) -> list[str]:
    assert tools.npm_bin is not None
    return [
        str(tools.npm_bin / "lumigo-cli"),
        "replay-sqs-dlq",
        "-d",
        DLQ,
        "-n",
        SOURCE,
        "-r",
        REGION,
    ]


def _replay(tools: Tools, endpoint: str, dlq: str, source: str, n: int) -> list[str]:
    assert tools.npm_bin is not None
    return [str(tools.npm_bin / "replay-aws-dlq"), dlq, source]


PEERS = (
    Peer("dlqctl", "dlqctl CLI", "dlqctl redrive, its default lanes", _dlqctl, outside=False),
    Peer(
        "naive",
        "naive boto3 loop",
        "bench/baselines.py, 1 message at a time",
        _loop("naive"),
        outside=False,
    ),
    Peer(
        "batched",
        "batched boto3 loop",
        "bench/baselines.py, batches of 10",
        _loop("batched"),
        outside=False,
    ),
    Peer("aws-cli", "AWS CLI shell loop", f"{AWSCLI}, confine/awscli_redrive.sh", _aws_cli),
    Peer(
        "lumigo-cli",
        "lumigo-cli replay-sqs-dlq",
        f"{NPM_PACKAGES[0]}, its default 10 pollers",
        _lumigo,
        node=True,
    ),
    Peer("replay-aws-dlq", "replay-aws-dlq", NPM_PACKAGES[1], _replay, node=True),
)


# -- installing (outside the namespace: the registries are reached by their clients) --


def _run_logged(argv: list[str], log: Path, **kwargs: Any) -> str | None:
    """Run an install step; None when it worked, else the reason (its output's last line)."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, **kwargs
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{' '.join(argv[:3])}: {exc}"
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"{' '.join(argv[:3])} failed ({done.returncode}): {tail[0]} (see {log})"
    return None


def install(cache: Path) -> Tools:
    """The AWS CLI in a virtualenv, the Node peers with npm, each once per pinned version
    (a stamp file names it)."""
    cache.mkdir(parents=True, exist_ok=True)
    missing: dict[str, str] = {}
    venv = cache / "awscli"
    stamp = venv / f".installed-{AWSCLI}"
    aws: Path | None = venv / "bin" / "aws"
    reason: str | None = None
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        reason = _run_logged([sys.executable, "-m", "venv", str(venv)], cache / "venv.log") or (
            _run_logged(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", AWSCLI],
                cache / "awscli-install.log",
            )
        )
        if reason:
            missing["aws-cli"], aws = reason, None
        else:
            stamp.touch()
    if shutil.which("jq") is None:
        missing["aws-cli"], aws = "jq is not installed (apt-get install jq)", None
    prefix = cache / "npm"
    npm_stamp = prefix / (".installed-" + "-".join(NPM_PACKAGES))
    npm_bin: Path | None = prefix / "node_modules" / ".bin"
    if shutil.which("npm") is None or shutil.which("node") is None:
        reason = "node and npm are not installed"
    elif npm_stamp.exists():
        reason = None
    else:
        prefix.mkdir(exist_ok=True)
        reason = _run_logged(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                *NPM_PACKAGES,
            ],
            cache / "npm-install.log",
        )
        if not reason:
            npm_stamp.touch()
    if reason:
        npm_bin = None
        for peer in PEERS:
            if peer.node:
                missing[peer.name] = reason
    return Tools(aws, npm_bin, missing)


# -- confinement ---------------------------------------------------------------------


def namespace_prefix() -> tuple[list[str], str]:
    """The command that runs the peers in a network namespace of their own, and what the
    table says of it; ([], why not) where this machine cannot make one."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None:
        return [], "preloads only (no unshare or ip here)"
    probe = subprocess.run(
        [unshare, "-rn", "sh", "-c", "ip link set lo up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return [], f"preloads only (unshare -rn failed: {probe.stderr.strip()[:120]})"
    return [unshare, "-rn"], "a network namespace with loopback only, and preloads"


def _environment(tools: Tools, endpoint: str, home: Path, src: Path | None) -> dict[str, str]:
    """What every client sees: the simulator as its endpoint, stand-in keys, no profile,
    no telemetry, the loopback preloads; nothing of this machine's AWS or dlqctl setup."""
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    path = env.get("PATH", "/usr/bin:/bin")
    if tools.aws:
        path = f"{tools.aws.parent}:{path}"
    env.update(
        {
            "PATH": path,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "AWS_ENDPOINT_URL": endpoint,
            "DLQCTL_BENCH_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": "simulated",
            "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "PYTHONPATH": ":".join(str(p) for p in (CONFINE, src, ROOT) if p),
            "NODE_OPTIONS": f"--require {CONFINE / 'loopback.js'}",
            "SKIP_VERSION_CHECK": "1",  # lumigo-cli: no `npm show` at each start
            "NO_COLOR": "1",
        }
    )
    return env


# -- measuring (inside the namespace) ------------------------------------------------


def _get(endpoint: str, path: str) -> Any:
    with urllib.request.urlopen(f"{endpoint}{path}", timeout=30) as answer:
        return json.loads(answer.read())


class Served:
    """A fresh simulator for one client: `python -m bench.sim.serve`, any free port."""

    def __init__(self, depth: int, latency_ms: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.sim.serve",
                "--port",
                "0",
                "--latency-ms",
                str(latency_ms),
                "--depth",
                str(depth),
                "--attributes",
                "rich",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.endpoint = line.removeprefix("listening on ")
        account = "123456789012"
        self.dlq = f"{self.endpoint}/{account}/{DLQ}"
        self.source = f"{self.endpoint}/{account}/{SOURCE}"

    def close(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _measured(argv: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run one client to its end: wall time, and its process tree's CPU and largest peak
    RSS from wait4 (a process's rusage includes the children it waited for)."""
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        timer = threading.Timer(TIMEOUT_S, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": process.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "timed_out": wall >= TIMEOUT_S,
    }


def measure_peer(
    peer: Peer, tools: Tools, n: int, latency_ms: float, scratch: Path, src: Path | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "peer": peer.name,
        "label": peer.label,
        "how": peer.how,
        "n": n,
        "outside": peer.outside,
    }
    if peer.name in tools.missing:
        return {**row, "measured": False, "reason": tools.missing[peer.name]}
    served = Served(n, latency_ms)
    try:
        home = scratch / peer.name
        home.mkdir(parents=True, exist_ok=True)
        env = _environment(tools, served.endpoint, home, src)
        argv = peer.command(tools, served.endpoint, served.dlq, served.source, n)
        before = _get(served.endpoint, "/_sim/stats")
        load_before = os.getloadavg()[0]
        run = _measured(argv, env, scratch / f"{peer.name}.log")
        row["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        stats = _get(served.endpoint, "/_sim/stats")
        state = _get(served.endpoint, "/_sim/state")
    finally:
        served.close()
    log_tail = (scratch / f"{peer.name}.log").read_text(errors="replace")[-2000:]
    requests = sum(stats["requests"].values()) - sum(before["requests"].values())
    copies = state["copies"]
    intact = state["intact"]
    window = stats.get("active_s") or 0.0
    row.update(run)
    row.update(
        {
            "measured": True,
            "requests": requests,
            "requests_by_operation": stats["requests"],
            "copies": copies,
            "dlq_left": state["dlq_visible"] + state["dlq_in_flight"],
            "req_per_msg": requests / copies if copies else None,
            "msg_per_s": copies / run["wall_s"] if copies and run["wall_s"] else None,
            "active_s": round(window, 3),
            "msg_per_s_active": copies / window if copies and window else None,
            "cpu_ms_per_msg": run["cpu_s"] * 1000 / copies if copies else None,
            "simulator_cpu_s": round(stats["cpu_s"] - before["cpu_s"], 3),
            "intact": intact,
            "log_tail": log_tail,
        }
    )
    moved_all = copies == n and row["dlq_left"] == 0
    # dlqctl is held to more than the peers: every body and every attribute intact.
    kept_all = intact["bodies_intact"] == intact["attributes_intact"] == copies
    if run["exit_code"] or run["timed_out"]:
        row["reason"] = f"exit {run['exit_code']}" + (", timed out" if run["timed_out"] else "")
    elif not moved_all:
        row["reason"] = f"moved {copies} of {n}, {row['dlq_left']} left in the DLQ"
    elif peer.name == "dlqctl" and not kept_all:
        row["reason"] = "a body or an attribute did not arrive intact"
    row["ok"] = "reason" not in row
    return row


def confined_main(plan_file: Path, out_file: Path) -> None:
    """Inside the namespace: bring loopback up, then measure each client in turn."""
    plan = json.loads(plan_file.read_text())
    if plan["namespace"]:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tools = Tools(
        Path(plan["aws"]) if plan["aws"] else None,
        Path(plan["npm_bin"]) if plan["npm_bin"] else None,
        plan["missing"],
    )
    scratch = Path(tempfile.mkdtemp(prefix="dlqctl-peers-"))
    rows = []
    try:
        for name in plan["peers"]:
            peer = next(p for p in PEERS if p.name == name)
            try:
                size, latency = plan["sizes"][name], plan["latency_ms"]
                src = Path(plan["src"]) if plan["src"] else None
                row = measure_peer(peer, tools, size, latency, scratch, src)
            except Exception as exc:  # one peer's failure is its row, not the run's end
                row = {
                    "peer": peer.name,
                    "label": peer.label,
                    "how": peer.how,
                    "n": plan["sizes"][name],
                    "outside": peer.outside,
                    "measured": False,
                    "reason": f"{type(exc).__name__}: {exc}",
                }
            rows.append(row)
            print(f"  {peer.label}: {_progress(row)}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out_file.write_text(json.dumps(rows))


def _progress(row: dict[str, Any]) -> str:
    if not row.get("measured"):
        return f"not measured: {row['reason']}"
    status = "ok" if row["ok"] else f"FAILED: {row['reason']}"
    rate = row["msg_per_s"] or 0
    return f"{row['copies']:,} of {row['n']:,} moved in {row['wall_s']:.1f} s ({rate:,.0f} msg/s), {status}"


def measure_all(
    *,
    quick: bool,
    latency_ms: float,
    cache: Path,
    sizes: dict[str, int] | None = None,
    names: list[str] | None = None,
    src: Path | None = None,
) -> dict[str, Any]:
    """Install the peers, then measure every client in the namespace: the rows, and how
    they were confined."""
    tools = install(cache)
    prefix, confinement = namespace_prefix()
    chosen = {**SIZES["quick" if quick else "full"], **(sizes or {})}
    with tempfile.TemporaryDirectory(prefix="dlqctl-peers-plan-") as folder:
        plan_file, out_file = Path(folder) / "plan.json", Path(folder) / "rows.json"
        plan_file.write_text(
            json.dumps(
                {
                    "namespace": bool(prefix),
                    "aws": str(tools.aws) if tools.aws else None,
                    "npm_bin": str(tools.npm_bin) if tools.npm_bin else None,
                    "missing": tools.missing,
                    "peers": [p.name for p in PEERS if names is None or p.name in names],
                    "sizes": chosen,
                    "latency_ms": latency_ms,
                    "src": str(src) if src else None,  # dlqctl's src/ of --dlqctl-rev
                }
            )
        )
        argv = [*prefix, sys.executable, "-m", "bench.peers", "confined", str(plan_file)]
        done = subprocess.run([*argv, str(out_file)], cwd=ROOT)
        if done.returncode == 0:
            rows = json.loads(out_file.read_text())
        else:  # every client keeps its row, with the reason
            reason = f"the confined run failed (exit {done.returncode}; its output above)"
            rows = [
                {
                    "peer": p.name,
                    "label": p.label,
                    "how": p.how,
                    "n": chosen[p.name],
                    "outside": p.outside,
                    "measured": False,
                    "reason": reason,
                }
                for p in PEERS
                if names is None or p.name in names
            ]
    add_ratios(rows)
    return {"confinement": confinement, "latency_ms": latency_ms, "rows": rows}


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Each client's figures beside dlqctl's of the same run: dlqctl's msg/s over the
    client's, and the client's requests per message over dlqctl's."""
    ours = next((r for r in rows if r["peer"] == "dlqctl" and r.get("measured")), None)
    for row in rows:
        if ours is None or not row.get("measured") or row is ours:
            continue
        for field, key in (
            ("msg_per_s", "dlqctl_speedup"),
            ("msg_per_s_active", "dlqctl_speedup_active"),
        ):
            if row.get(field) and ours.get(field):
                row[key] = ours[field] / row[field]
        if row.get("req_per_msg") and ours.get("req_per_msg"):
            row["req_ratio"] = row["req_per_msg"] / ours["req_per_msg"]


# -- the boto3 loops, as separate programs -------------------------------------------


def loop_main(impl: str, endpoint: str, dlq: str, source: str, n: int) -> None:
    import boto3  # here: the loop is its own process, started with nothing else loaded

    client = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    with tempfile.TemporaryDirectory() as tmp:
        moved = baselines.redrive(client, dlq, source, n, baselines.BATCH[impl], Path(tmp))
    print(f"moved {moved}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peers", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    confined = commands.add_parser("confined", help="measure every client (run in the namespace)")
    confined.add_argument("plan", type=Path)
    confined.add_argument("out", type=Path)
    loop = commands.add_parser("loop", help="one boto3 baseline over HTTP")
    loop.add_argument("impl", choices=sorted(baselines.BATCH))
    loop.add_argument("endpoint")
    loop.add_argument("dlq")
    loop.add_argument("source")
    loop.add_argument("n", type=int)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "confined":
        confined_main(args.plan, args.out)
    else:
        loop_main(args.impl, args.endpoint, args.dlq, args.source, args.n)


if __name__ == "__main__":
    main()
