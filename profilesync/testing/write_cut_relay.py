"""A relay that lets a test stop the directory exactly while a write is in flight.

In front of a real slapd, like :class:`~.stalling_relay.StallingRelay`; when the
client sends an LDAP ModifyRequest, the relay calls ``on_modify`` in its own
thread, either before passing the request on (``cut="before"``: the server never
sees the write) or after the server answered but before that answer reaches the
client (``cut="after"``: the write happened and the client never hears of it).
``on_modify`` typically stops slapd; the relay then drops every connection, so
the client sees the server go away in the middle of its write.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from .stalling_relay import StallingRelay

MODIFY_REQUEST = 0x66  # [APPLICATION 6]


def operation_tag(message: bytes) -> int | None:
    """The protocolOp tag of a BER-encoded LDAPMessage (None if it does not parse)."""
    try:
        if message[0] != 0x30:
            return None
        index = 2 + (message[1] & 0x7F if message[1] & 0x80 else 0)
        if message[index] != 0x02:  # messageID INTEGER
            return None
        return message[index + 2 + message[index + 1]]
    except IndexError:
        return None


class WriteCutRelay(StallingRelay):
    """A :class:`StallingRelay` whose ``_forward`` hook cuts the stream at a ModifyRequest;
    accepting, pumping and closing are the stalling relay's own."""

    def __init__(self, target_host: str, target_port: int, *, cut: str,
                 on_modify: Callable[[], None]):
        super().__init__(target_host, target_port)
        self.cut = cut
        self.on_modify = on_modify
        self.modifies = 0
        self._answered = threading.Event()
        self._holding_answer = False
        self.done = threading.Event()  # set once on_modify ran and the relay closed

    def _forward(self, data: bytes, sink: socket.socket, held: bool) -> bool:
        if held:
            if self._holding_answer:
                self._answered.set()  # the answer is never passed on
                self._closed.wait(timeout=30)
                return False
        elif operation_tag(data) == MODIFY_REQUEST and not self._closed.is_set():
            self.modifies += 1
            if self.cut == "after":
                self._holding_answer = True
                sink.sendall(data)
                self._answered.wait(timeout=30)
            try:
                self.on_modify()
            finally:
                self.__exit__(None, None, None)
                self.done.set()
            return False
        return super()._forward(data, sink, held)
