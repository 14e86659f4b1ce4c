"""Stateful property test of two sans-IO connections wired back to back (hypothesis).

A client `Connection` and a server `Connection` exchange bytes through two pipes that
the rules move explicitly, in arbitrary chunk sizes. Rules send text, binary,
fragmented messages, pings, pongs and close frames from either side, fail a side,
signal EOF and inject garbage. After every step:

* a side's state only moves forward (OPEN -> CLOSING -> CLOSED);
* the messages a side received are a prefix of those the other side sent, in order,
  unless garbage was injected in that direction;
* an API call raises nothing but `InvalidState`, `ValueError` or `TypeError`.

At the end, once every pending byte is delivered: each lossless direction (no garbage,
the receiver neither failed nor saw EOF) delivered every message sent, and after a
clean close both sides agree on the codes sent and received.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from wsframe import (
    BinaryMessage,
    CloseReceived,
    Connection,
    ConnectionFailed,
    ConnectionOptions,
    InvalidState,
    Ping,
    Pong,
    Role,
    State,
    TextMessage,
)
from wsframe.extensions import PerMessageDeflate

SIDES = st.sampled_from(["client", "server"])
CLOSE_CODES = st.sampled_from([None, 1000, 1001, 1003, 1008, 1011, 3000, 4999])
PAYLOADS = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(1, 300)),
)


def _other(side: str) -> str:
    return "server" if side == "client" else "client"


class ConnectionPair(RuleBasedStateMachine):
    """A client and a server connection, and the bytes in flight between them."""

    def __init__(self) -> None:
        super().__init__()
        self.conns: dict[str, Connection] = {}
        # pipes[side]: bytes written by `side`, not yet delivered to the other side.
        self.pipes: dict[str, bytearray] = {"client": bytearray(), "server": bytearray()}
        self.sent: dict[str, list[str | bytes]] = {"client": [], "server": []}
        self.received: dict[str, list[str | bytes]] = {"client": [], "server": []}
        self.fragments: dict[str, list[str | bytes]] = {"client": [], "server": []}
        # Directions (named by the sender) where garbage was injected.
        self.tainted: set[str] = set()
        self.failed_by_api: set[str] = set()  # sides on which fail() was called
        self.eof: set[str] = set()
        self.failures: dict[str, int] = {}  # side -> code of a ConnectionFailed it reported
        self.close_events: dict[str, tuple[int, str]] = {}
        self.states: dict[str, State] = {}

    @initialize(
        deflate=st.booleans(),
        client_no_context_takeover=st.booleans(),
        server_no_context_takeover=st.booleans(),
        client_threshold=st.integers(1, 64),
        server_threshold=st.integers(1, 64),
    )
    def setup(
        self,
        deflate: bool,
        client_no_context_takeover: bool,
        server_no_context_takeover: bool,
        client_threshold: int,
        server_threshold: int,
    ) -> None:
        def extensions(local: bool, remote: bool) -> list[PerMessageDeflate]:
            if not deflate:
                return []
            return [
                PerMessageDeflate(
                    remote_no_context_takeover=remote,
                    local_no_context_takeover=local,
                    remote_max_window_bits=15,
                    local_max_window_bits=15,
                    min_size=8,
                )
            ]

        self.conns["client"] = Connection(
            Role.CLIENT,
            ConnectionOptions(fragmentation_threshold=client_threshold),
            extensions=extensions(client_no_context_takeover, server_no_context_takeover),
            # Reproducible masks: with garbage in the stream, the outcome depends on them.
            mask_key=random.Random(0).randbytes,
        )
        self.conns["server"] = Connection(
            Role.SERVER,
            ConnectionOptions(fragmentation_threshold=server_threshold),
            extensions=extensions(server_no_context_takeover, client_no_context_takeover),
        )
        self.states = {side: conn.state for side, conn in self.conns.items()}

    # ----------------------------------------------------------------- helpers

    def _collect(self, side: str) -> None:
        data = self.conns[side].data_to_send()
        assert type(data) is bytes
        self.pipes[side] += data

    def _api(self, side: str, call: Any, *args: Any, **kwargs: Any) -> bool:
        """Call a sending API; True when it queued, False when it refused as documented."""
        conn = self.conns[side]
        before = conn.state
        try:
            call(*args, **kwargs)
        except InvalidState:
            # Refused only when not open, or when a fragmented message is in progress.
            assert before is not State.OPEN or self.fragments[side], (before, self.fragments[side])
            return False
        finally:
            self._collect(side)
        return True

    def _deliver(self, sender: str, count: int) -> None:
        receiver = _other(sender)
        pipe = self.pipes[sender]
        chunk = bytes(pipe[:count])
        del pipe[:count]
        conn = self.conns[receiver]
        for event in conn.receive_data(chunk):
            assert receiver not in self.failures, f"event after ConnectionFailed: {event!r}"
            if isinstance(event, (TextMessage, BinaryMessage)):
                self.received[receiver].append(event.data)
            elif isinstance(event, CloseReceived):
                assert receiver not in self.close_events
                self.close_events[receiver] = (event.code, event.reason)
            elif isinstance(event, ConnectionFailed):
                # Only garbage can make a well-behaved peer's stream invalid.
                assert sender in self.tainted, f"{receiver} failed on a clean stream: {event.error!r}"
                assert event.code in (1002, 1007, 1009, 1011), event.code
                self.failures[receiver] = event.code
                conn.fail()  # what a driver does
            else:
                assert isinstance(event, (Ping, Pong)), event
        self._collect(receiver)

    # ------------------------------------------------------------------- rules

    @rule(side=SIDES, data=PAYLOADS)
    def send(self, side: str, data: str | bytes) -> None:
        if self._api(side, self.conns[side].send, data):
            self.sent[side].append(data)

    @rule(side=SIDES, data=PAYLOADS, fin=st.booleans())
    def send_fragment(self, side: str, data: str | bytes, fin: bool) -> None:
        parts = self.fragments[side]
        if parts and type(parts[0]) is not type(data):
            data = data.encode() if isinstance(data, str) else data.decode("latin-1")
        conn = self.conns[side]
        before = conn.state
        try:
            conn.send_fragment(data, fin=fin)
        except InvalidState:
            assert before is not State.OPEN
            return
        finally:
            self._collect(side)
        parts.append(data)
        if fin:
            self.sent[side].append(parts[0][:0].join(parts))  # type: ignore[arg-type]
            parts.clear()

    @rule(side=SIDES, payload=st.binary(max_size=125), pong=st.booleans())
    def ping_or_pong(self, side: str, payload: bytes, pong: bool) -> None:
        conn = self.conns[side]
        self._api(side, conn.send_pong if pong else conn.send_ping, payload)

    @rule(side=SIDES, payload=st.binary(min_size=126, max_size=200))
    def oversized_ping(self, side: str, payload: bytes) -> None:
        conn = self.conns[side]
        before = conn.state
        try:
            conn.send_ping(payload)
        except InvalidState:
            assert before is not State.OPEN
        except ValueError:
            pass
        else:
            raise AssertionError("a ping of more than 125 bytes was queued")
        self._collect(side)

    @rule(side=SIDES, code=CLOSE_CODES, reason=st.text(max_size=10))
    def close(self, side: str, code: int | None, reason: str) -> None:
        if code is None:
            reason = ""
        self._api(side, self.conns[side].send_close, code, reason)

    @rule(side=SIDES, code=st.sampled_from([None, 1008, 1011]))
    def fail(self, side: str, code: int | None) -> None:
        self.conns[side].fail(code)
        self.failed_by_api.add(side)
        self._collect(side)
        assert self.conns[side].should_close_transport

    @rule(side=SIDES)
    def receive_eof(self, side: str) -> None:
        self.conns[side].receive_eof()
        self.eof.add(side)
        assert self.conns[side].state is State.CLOSED

    @rule(sender=SIDES, count=st.one_of(st.integers(1, 7), st.integers(8, 5000)))
    def deliver(self, sender: str, count: int) -> None:
        self._deliver(sender, count)

    @rule(sender=SIDES, garbage=st.binary(min_size=1, max_size=20))
    def inject_garbage(self, sender: str, garbage: bytes) -> None:
        self.tainted.add(sender)
        self.pipes[sender] += garbage

    @rule(sender=SIDES)
    @precondition(lambda self: any(self.pipes.values()))
    def deliver_all(self, sender: str) -> None:
        self._deliver(sender, len(self.pipes[sender]))

    # -------------------------------------------------------------- invariants

    @invariant()
    def states_move_forward(self) -> None:
        for side, conn in self.conns.items():
            assert conn.state >= self.states[side], (side, self.states[side], conn.state)
            assert conn.state in (State.OPEN, State.CLOSING, State.CLOSED)
            self.states[side] = conn.state

    @invariant()
    def received_in_order(self) -> None:
        for sender in self.conns:
            if sender in self.tainted:
                continue
            received = self.received[_other(sender)]
            assert received == self.sent[sender][: len(received)], (sender, received, self.sent[sender])

    def teardown(self) -> None:
        if not self.conns:
            return
        # Deliver everything still in flight, including the replies it causes.
        for _ in range(20):
            if not any(self.pipes.values()):
                break
            for sender in ("client", "server"):
                self._deliver(sender, len(self.pipes[sender]))
        assert not any(self.pipes.values()), "bytes still in flight after 20 rounds"
        for sender in ("client", "server"):
            receiver = _other(sender)
            if sender in self.tainted or receiver in self.failed_by_api or receiver in self.eof:
                continue
            assert self.received[receiver] == self.sent[sender], (sender, self.received[receiver], self.sent[sender])
        client, server = self.conns["client"], self.conns["server"]
        if self.tainted or self.failed_by_api or self.eof:
            return
        # No failure of any kind: the close handshake, if started, completed consistently.
        if client.close_sent is not None or server.close_sent is not None:
            assert client.close_was_clean
            assert server.close_was_clean
            assert client.state is State.CLOSED
            assert server.state is State.CLOSED
            assert server.close_received is not None
            assert client.close_received is not None
            assert client.close_sent is not None
            assert server.close_sent is not None
            assert server.close_received[0] == client.close_sent[0], (server.close_received, client.close_sent)
            assert client.close_received[0] == server.close_sent[0], (client.close_received, server.close_sent)
            assert server.should_close_transport
        else:
            assert client.state is State.OPEN
            assert server.state is State.OPEN


ConnectionPair.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestConnectionPair = ConnectionPair.TestCase
