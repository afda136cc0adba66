"""The MD5 digests SQS returns, computed as SQS documents them, so clients that verify
them (the Java SDK does) would accept the simulator's answers."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

_STRING, _BINARY = 1, 2  # the transport-type byte SQS hashes after each data type


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: dict[str, Any]) -> str:
    """Each attribute, by name: length-prefixed name, type, transport byte, value."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_prefixed(name.encode()))
        digest.update(_prefixed(attribute["DataType"].encode()))
        if "BinaryValue" in attribute:
            digest.update(bytes([_BINARY]))
            digest.update(_prefixed(base64.b64decode(attribute["BinaryValue"])))
        else:
            digest.update(bytes([_STRING]))
            digest.update(_prefixed(attribute.get("StringValue", "").encode()))
    return digest.hexdigest()


def _prefixed(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value
