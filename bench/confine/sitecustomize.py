"""Imported at start-up by every Python peer (its directory is first on PYTHONPATH): the
peer may connect to loopback only. The peers already run in a network namespace of their
own with only a loopback interface (bench/peers.py); this is the second wall, and what
confines them where no namespace can be made."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _loopback(host: Any) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise ConnectionRefusedError(
            f"bench: {address[0]} is not loopback; peers reach 127.0.0.1 only"
        )


def _confined_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _connect(self, address)


def _confined_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _connect_ex(self, address)


def _confined_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"bench: {host} is not loopback")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _confined_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _confined_connect_ex  # type: ignore[method-assign,assignment]
socket.getaddrinfo = _confined_getaddrinfo
