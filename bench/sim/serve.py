"""The simulated SQS over HTTP on 127.0.0.1, for clients that are not Python processes.

    python -m bench.sim.serve --port 9324 --latency-ms 20 --depth 1000

It speaks both of SQS's protocols on one port:

- JSON (botocore's default for SQS, and aws-sdk 2.1693 for JavaScript's, the Node peers'):
  `POST /` with `X-Amz-Target: AmazonSQS.<Operation>` and an application/x-amz-json-1.0
  body; errors carry the query protocol's code in `x-amzn-query-error`, as SQS's do.
- query (older SDKs): `Action=<Operation>&…`, form-encoded in a POST body or in the URL,
  lists and maps flattened (`AttributeName.1`, `MessageAttribute.1.Value.StringValue`,
  `SendMessageBatchRequestEntry.2.Id`), answered in XML.

Each request goes through the same `SimTransport.respond` as the in-process simulator:
the same operations, request counters and fault injection. The round trip is the same
one sleep of `--latency-ms` per request, taken in the request's own thread (a thread per
connection) outside every lock, so concurrent connections overlap their waits. Queue URLs
name this server (`http://127.0.0.1:P/123456789012/<name>`), since aws-sdk v2 sends every
request to the QueueUrl it is given.

The DLQ is seeded as the bench seeds it (bench/content.py), every message matching the
redrive's error type; `--attributes rich` gives each message one attribute of each data
type (String, Number, Binary and custom types), so a peer's copies can be checked for
what they kept. Outside SQS's API, for the bench: `GET /_sim/stats` (requests per
operation, this process's CPU and peak RSS), `GET /_sim/state` (the queues afterwards and
whether the copies arrived intact), `POST /_sim/reset` (zero the request counters). The
first line printed is `listening on http://127.0.0.1:P`.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from bench import content
from bench.scenarios import REDRIVE_ERROR_TYPE
from bench.sim.service import SqsService
from bench.sim.transport import Faults, SimTransport

XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_NUMBERED = re.compile(r"\d+")
_WORK = ("SendMessage", "DeleteMessage")  # and their batches: what moves a message
_INTEGERS = ("MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "DelaySeconds")


# -- the query protocol: flattened parameters in, XML out ----------------------------


def query_params(form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The operation and its parameters in the JSON protocol's shape, from a query
    request's flattened form (`Attribute.1.Name=…`, `…BatchRequestEntry.1.Id=…`)."""
    tree: dict[str, Any] = {}
    for key, value in form.items():
        node = tree
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    operation = str(tree.pop("Action", ""))
    tree.pop("Version", None)
    return operation, _shape(tree)


def _listed(node: Any) -> Any:
    """{"1": a, "2": b} → [a, b] (by number), recursively; other dicts keep their keys."""
    if not isinstance(node, dict):
        return node
    if node and all(_NUMBERED.fullmatch(key) for key in node):
        return [_listed(node[key]) for key in sorted(node, key=int)]
    return {key: _listed(value) for key, value in node.items()}


def _shape(tree: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in _listed(tree).items():
        if key == "Attribute":  # CreateQueue, SetQueueAttributes: name/value pairs
            params["Attributes"] = {pair["Name"]: pair["Value"] for pair in value}
        elif key in ("AttributeName", "MessageAttributeName", "MessageSystemAttributeName"):
            params[key + "s"] = value
        elif key in ("MessageAttribute", "MessageSystemAttribute"):
            params[key + "s"] = {pair["Name"]: pair["Value"] for pair in value}
        elif key.endswith("BatchRequestEntry"):
            params["Entries"] = [_shape(entry) for entry in value]
        elif key in _INTEGERS:
            params[key] = int(value)
        else:
            params[key] = value
    return params


def _element(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def _attribute_xml(tag: str, attributes: dict[str, Any]) -> str:
    out = []
    for name, value in attributes.items():
        inner = _element("DataType", value["DataType"])
        for kind in ("StringValue", "BinaryValue"):
            if kind in value:
                inner += _element(kind, value[kind])
        out.append(f"<{tag}>{_element('Name', name)}<Value>{inner}</Value></{tag}>")
    return "".join(out)


def _fields(answer: dict[str, Any], names: tuple[str, ...]) -> str:
    return "".join(_element(name, answer[name]) for name in names if name in answer)


_SENT = ("Id", "MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes", "SequenceNumber")


def _result_xml(operation: str, answer: dict[str, Any]) -> str:
    if operation == "ReceiveMessage":
        messages = []
        for message in answer.get("Messages", []):
            inner = _fields(message, ("MessageId", "ReceiptHandle", "MD5OfBody", "Body"))
            inner += "".join(
                f"<Attribute>{_element('Name', k)}{_element('Value', v)}</Attribute>"
                for k, v in message.get("Attributes", {}).items()
            )
            inner += _fields(message, ("MD5OfMessageAttributes",))
            inner += _attribute_xml("MessageAttribute", message.get("MessageAttributes", {}))
            messages.append(f"<Message>{inner}</Message>")
        return "".join(messages)
    if operation == "GetQueueAttributes":
        return "".join(
            f"<Attribute>{_element('Name', k)}{_element('Value', v)}</Attribute>"
            for k, v in answer.get("Attributes", {}).items()
        )
    if operation in ("ListQueues", "ListDeadLetterSourceQueues"):
        urls = answer.get("QueueUrls", answer.get("queueUrls", []))
        return "".join(_element("QueueUrl", url) for url in urls) + _fields(answer, ("NextToken",))
    if operation.endswith("Batch"):
        entry = f"{operation}ResultEntry"
        out = [f"<{entry}>{_fields(e, _SENT)}</{entry}>" for e in answer.get("Successful", [])]
        for failed in answer.get("Failed", []):
            failed = {**failed, "SenderFault": str(failed["SenderFault"]).lower()}
            inner = _fields(failed, ("Id", "SenderFault", "Code", "Message"))
            out.append(f"<BatchResultErrorEntry>{inner}</BatchResultErrorEntry>")
        return "".join(out)
    return _fields(answer, ("QueueUrl", *_SENT[1:]))


def query_answer(operation: str, answer: dict[str, Any], request_id: str) -> str:
    return (
        f'<?xml version="1.0"?><{operation}Response xmlns="{XMLNS}">'
        f"<{operation}Result>{_result_xml(operation, answer)}</{operation}Result>"
        f"<ResponseMetadata>{_element('RequestId', request_id)}</ResponseMetadata>"
        f"</{operation}Response>"
    )


def query_error(body: dict[str, Any], query_code: str, request_id: str) -> str:
    code, _, side = query_code.partition(";")
    return (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{XMLNS}"><Error>'
        f"{_element('Type', side or 'Sender')}{_element('Code', code)}"
        f"{_element('Message', body.get('message', ''))}<Detail/></Error>"
        f"{_element('RequestId', request_id)}</ErrorResponse>"
    )


# -- the server ----------------------------------------------------------------------


class Simulator:
    """The service, its transport and what the bench asks of them outside SQS's API."""

    def __init__(
        self, args: argparse.Namespace, url_base: str, sleep: Callable[[float], None]
    ) -> None:
        self.layout = content.Layout(fifo=args.groups > 0, groups=args.groups)
        self.service = SqsService(in_flight_limit=args.in_flight_limit, url_base=url_base)
        faults = Faults(
            throttle_rate=args.throttle_rate,
            error_rate=args.error_rate,
            ambiguous_rate=args.ambiguous_rate,
            entry_failure_rate=args.entry_failure_rate,
        )
        self.transport = SimTransport(self.service, latency_s=0, faults=faults)
        self.latency_s = args.latency_ms / 1000
        self.sleep = sleep
        self.depth = args.depth
        self.rich = args.attributes == "rich"
        # A client's active window: its first request to its last accepted send or delete
        # (so neither its start-up nor its last empty polls count in it).
        self.first_at: float | None = None
        self.last_work_at: float | None = None
        self._window_lock = threading.Lock()
        content.create_queues(self.service, self.layout)
        content.seed_dlq(
            self.service,
            args.depth,
            error_type=REDRIVE_ERROR_TYPE,
            layout=self.layout,
            rich=self.rich,
        )

    def answered(self, operation: str, status: int) -> None:
        now = time.monotonic()
        with self._window_lock:
            if self.first_at is None:
                self.first_at = now
            if status == 200 and operation.startswith(_WORK):
                self.last_work_at = now

    def stats(self) -> dict[str, Any]:
        with self._window_lock:
            first, last = self.first_at, self.last_work_at
        return {
            "active_s": last - first if first is not None and last is not None else None,
            "requests": dict(self.transport.requests),
            "faults_injected": dict(self.transport.faults_injected),
            "cpu_s": time.process_time(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    def state(self) -> dict[str, Any]:
        state = content.queue_state(self.service, self.layout)
        state["intact"] = content.intact(self.service, self.layout, rich=self.rich)
        return state


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: SDKs reuse their connections
    # The headers and the body go out in two writes: with Nagle's algorithm on, the body
    # would wait for the client's delayed ACK of the headers, 40 ms a request on Linux.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would cost more than the request

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/_sim/"):
            self._control(url.path)
            return
        sim = self.server.sim
        request_id = f"sim-{sim.transport.total_requests:012d}"
        target = self.headers.get("X-Amz-Target")
        if target:
            operation = target.rpartition(".")[2]
            status, answer, query_code = sim.transport.respond(
                operation, lambda: json.loads(body or b"{}")
            )
            data = json.dumps(answer).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            if query_code:
                headers["x-amzn-query-error"] = query_code
        else:
            form = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            form.update(
                (k, v[-1])
                for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
            )
            operation, params = query_params(form)
            status, answer, query_code = sim.transport.respond(operation, lambda: params)
            text = (
                query_error(answer, query_code, request_id)
                if query_code
                else query_answer(operation, answer, request_id)
            )
            data = text.encode()
            headers = {"Content-Type": "text/xml"}
        if sim.latency_s:
            sim.sleep(sim.latency_s)  # the round trip, outside every lock
        sim.answered(operation, status)
        self._send(status, data, {**headers, "x-amzn-RequestId": request_id})

    def _control(self, path: str) -> None:
        sim = self.server.sim
        if path == "/_sim/stats":
            answer: Any = sim.stats()
        elif path == "/_sim/state":
            answer = sim.state()
        elif path == "/_sim/reset":
            sim.transport.reset_counters()
            answer = {}
        else:
            self._send(404, b"{}", {"Content-Type": "application/json"})
            return
        self._send(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    sim: Simulator


def serve(args: argparse.Namespace, sleep: Callable[[float], None] = time.sleep) -> Server:
    """Bind, seed, and return the server (not yet serving): `serve_forever` it."""
    if args.host not in LOOPBACK:
        raise SystemExit("bench.sim.serve: only a loopback address (127.0.0.1) is served")
    server = Server((args.host, args.port), Handler)
    server.sim = Simulator(args, address(server), sleep)
    return server


def address(server: Server) -> str:
    """http://127.0.0.1:P, the port the system chose for --port 0."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sim.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address only")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per request (20)")
    parser.add_argument("--depth", type=int, default=0, help="messages seeded in the DLQ")
    parser.add_argument("--groups", type=int, default=0, help="FIFO queues with N groups")
    parser.add_argument(
        "--attributes",
        choices=("plain", "rich"),
        default="plain",
        help="rich: one message attribute of every data type on each message",
    )
    parser.add_argument("--in-flight-limit", type=int, default=120_000)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ambiguous-rate", type=float, default=0.0)
    parser.add_argument("--entry-failure-rate", type=float, default=0.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    server = serve(parse(sys.argv[1:] if argv is None else argv))
    print(f"listening on {address(server)}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
