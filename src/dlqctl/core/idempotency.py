"""The idempotency key: one function shared by the worker Lambda and by dlqctl.

SHA-256 of the canonical JSON payload (sorted keys, no whitespace), or of the raw body
when it is not JSON, so the same payload always maps to the same ledger item however
its producer formatted it.
"""

from __future__ import annotations

import hashlib
import json


def canonical_json(payload: object) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def idempotency_key(body: str) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return _digest(body)
    return payload_key(payload)


def payload_key(payload: object) -> str:
    """The key of an already parsed JSON body (saves parsing it twice)."""
    return _digest(canonical_json(payload))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def body_sha256(body: str) -> str:
    """Digest of the body exactly as stored, used to recognise a message's copies."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
