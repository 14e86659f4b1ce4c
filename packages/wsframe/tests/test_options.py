"""wsframe.options: `ConnectionOptions` (limits of RFC 6455 section 10.4), `DriverOptions`, the validators."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

import wsframe
import wsframe.asyncio
from wsframe import DEFAULT_FRAGMENTATION_THRESHOLD, DEFAULT_MAX_MESSAGE_SIZE, ConnectionOptions
from wsframe.asyncio import WebSocketConnection
from wsframe.options import (
    DEFAULT_CLIENT_MAX_MESSAGE_SIZE,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_QUEUE,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_WRITE_LIMIT,
    DriverOptions,
    check_bool,
    check_int,
    check_number,
)


class TestDefaults:
    """Section 10.4: default limits."""

    def test_defaults(self) -> None:
        options = ConnectionOptions()
        assert options.max_message_size == DEFAULT_MAX_MESSAGE_SIZE == 1024 * 1024
        assert options.max_frame_size is None
        assert options.assemble_fragments is True
        assert options.fragment_outgoing_messages is True
        assert options.fragmentation_threshold == DEFAULT_FRAGMENTATION_THRESHOLD == 64 * 1024
        assert options.auto_pong is True

    def test_frozen(self) -> None:
        options = ConnectionOptions()
        with pytest.raises(dataclasses.FrozenInstanceError):
            options.max_message_size = 5  # type: ignore[misc]

    def test_replace_validates(self) -> None:
        options = dataclasses.replace(ConnectionOptions(), max_message_size=10)
        assert options.max_message_size == 10
        with pytest.raises(ValueError, match="max_message_size"):
            dataclasses.replace(options, max_message_size=-1)


class TestValidation:
    """Bad option values raise ValueError (out of range) or TypeError (wrong type), naming the field."""

    @pytest.mark.parametrize("field", ["max_message_size", "max_frame_size"])
    @pytest.mark.parametrize("value", [-1, -(2**40)])
    def test_negative_sizes(self, field: str, value: int) -> None:
        with pytest.raises(ValueError, match=field):
            ConnectionOptions(**{field: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["max_message_size", "max_frame_size"])
    @pytest.mark.parametrize("value", [True, False, 1.5, 10.0, "10"])
    def test_sizes_of_wrong_type(self, field: str, value: object) -> None:
        """A bool is an int to Python, but `max_message_size=True` is a mistake, not a limit of 1."""
        with pytest.raises(TypeError, match=field):
            ConnectionOptions(**{field: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["max_message_size", "max_frame_size"])
    @pytest.mark.parametrize("value", [None, 0, 1, 2**40])
    def test_good_sizes(self, field: str, value: int | None) -> None:
        options = ConnectionOptions(**{field: value})  # type: ignore[arg-type]
        assert getattr(options, field) == value

    @pytest.mark.parametrize("value", [0, -1])
    def test_threshold_not_positive(self, value: int) -> None:
        with pytest.raises(ValueError, match="fragmentation_threshold"):
            ConnectionOptions(fragmentation_threshold=value)

    @pytest.mark.parametrize("value", [True, 1.0, None, "1"])
    def test_threshold_of_wrong_type(self, value: object) -> None:
        with pytest.raises(TypeError, match="fragmentation_threshold"):
            ConnectionOptions(fragmentation_threshold=value)  # type: ignore[arg-type]

    def test_threshold_of_one(self) -> None:
        assert ConnectionOptions(fragmentation_threshold=1).fragmentation_threshold == 1

    @pytest.mark.parametrize("field", ["assemble_fragments", "fragment_outgoing_messages", "auto_pong"])
    @pytest.mark.parametrize("value", [0, 1, None, "yes"])
    def test_bad_flags(self, field: str, value: object) -> None:
        """`auto_pong=0` is not False: flags must be real bools."""
        with pytest.raises(TypeError, match=field):
            ConnectionOptions(**{field: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["assemble_fragments", "fragment_outgoing_messages", "auto_pong"])
    def test_good_flags(self, field: str) -> None:
        assert getattr(ConnectionOptions(**{field: False}), field) is False  # type: ignore[arg-type]


class TestFrameLimit:
    """Section 10.4: the effective limit on one received frame."""

    @pytest.mark.parametrize(
        ("message", "frame", "limit"),
        [
            (100, None, 100),
            (None, None, None),
            (None, 50, 50),
            (100, 50, 50),
            (50, 100, 50),
            (0, 10, 0),
            (100, 100, 100),
        ],
    )
    def test_frame_limit(self, message: int | None, frame: int | None, limit: int | None) -> None:
        options = ConnectionOptions(max_message_size=message, max_frame_size=frame)
        assert options.frame_limit == limit


class TestCheckInt:
    @pytest.mark.parametrize("value", [0, 1, 10**20])
    def test_accepts(self, value: int) -> None:
        check_int("limit", value)

    @pytest.mark.parametrize("value", [True, False, 1.0, "1", None, b"1"])
    def test_wrong_type(self, value: object) -> None:
        with pytest.raises(TypeError, match=r"^limit must be an int, not "):
            check_int("limit", value)

    def test_range(self) -> None:
        with pytest.raises(ValueError, match=r"^limit must be at least 1, not 0$"):
            check_int("limit", 0, minimum=1)
        with pytest.raises(ValueError, match=r"^limit must be at least 0 or None, not -1$"):
            check_int("limit", -1, optional=True)

    def test_optional(self) -> None:
        check_int("limit", None, optional=True)
        with pytest.raises(TypeError, match=r"^limit must be an int or None, not True$"):
            check_int("limit", True, optional=True)


class TestCheckNumber:
    @pytest.mark.parametrize("value", [1, 0.001, 1e9, float("inf")])
    def test_accepts_positive(self, value: float) -> None:
        check_number("timeout", value)

    @pytest.mark.parametrize("value", [True, "1", None, [1], 1j])
    def test_wrong_type(self, value: object) -> None:
        with pytest.raises(TypeError, match=r"^timeout must be a number, not "):
            check_number("timeout", value)

    @pytest.mark.parametrize("value", [0, 0.0, -1, float("nan"), float("-inf")])
    def test_not_positive(self, value: float) -> None:
        with pytest.raises(ValueError, match=r"^timeout must be positive or None, not "):
            check_number("timeout", value, optional=True)

    def test_bounds(self) -> None:
        check_number("delay", 0, inclusive=True)
        with pytest.raises(ValueError, match=r"^delay must be non-negative, not -0.5$"):
            check_number("delay", -0.5, inclusive=True)
        check_number("factor", 1, minimum=1, inclusive=True)
        with pytest.raises(ValueError, match=r"^factor must be at least 1, not 0.5$"):
            check_number("factor", 0.5, minimum=1, inclusive=True)
        with pytest.raises(ValueError, match=r"^ratio must be greater than 1, not 1$"):
            check_number("ratio", 1, minimum=1)


def test_check_bool() -> None:
    check_bool("flag", True)
    check_bool("flag", False)
    for value in (1, 0, None, "True"):
        with pytest.raises(TypeError, match=r"^flag must be a bool, not "):
            check_bool("flag", value)


class TestOptionObjects:
    def test_defaults(self) -> None:
        assert DriverOptions() == DriverOptions(
            open_timeout=10.0, close_timeout=5.0, keepalive_interval=20.0, keepalive_grace=10.0,
            max_queue=16, write_limit=64 * 1024,
        )  # fmt: skip
        assert ConnectionOptions().max_message_size == DEFAULT_MAX_MESSAGE_SIZE == 1024 * 1024
        assert DEFAULT_CLIENT_MAX_MESSAGE_SIZE == 8 * 1024 * 1024

    def test_asyncio_defaults_are_the_same(self) -> None:
        # wsframe.asyncio names them too (its connection's signature uses them).
        assert wsframe.asyncio.DEFAULT_CLOSE_TIMEOUT == DEFAULT_CLOSE_TIMEOUT
        assert wsframe.asyncio.DEFAULT_KEEPALIVE_INTERVAL == DEFAULT_KEEPALIVE_INTERVAL
        assert wsframe.asyncio.DEFAULT_KEEPALIVE_GRACE == DEFAULT_KEEPALIVE_GRACE
        assert wsframe.asyncio.DEFAULT_MAX_QUEUE == DEFAULT_MAX_QUEUE
        assert wsframe.asyncio.DEFAULT_WRITE_LIMIT == DEFAULT_WRITE_LIMIT
        assert DEFAULT_OPEN_TIMEOUT == 10.0

    @pytest.mark.parametrize("cls", [ConnectionOptions, DriverOptions])
    def test_frozen_and_slotted(self, cls: Any) -> None:
        options = cls()
        field = dataclasses.fields(cls)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(options, field, None)
        assert not hasattr(options, "__dict__")

    def test_none_turns_timers_off(self) -> None:
        options = DriverOptions(open_timeout=None, close_timeout=None, keepalive_interval=None, keepalive_grace=None)
        assert options.keepalive_interval is None
        with pytest.raises(TypeError, match="max_queue"):
            DriverOptions(max_queue=None)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"max_queue": True}, TypeError),
            ({"write_limit": 1.5}, TypeError),
            ({"close_timeout": "5"}, TypeError),
            ({"keepalive_interval": False}, TypeError),
            ({"max_queue": 0}, ValueError),
            ({"keepalive_grace": -1}, ValueError),
        ],
    )
    def test_the_asyncio_connection_validates_as_driver_options(
        self, kwargs: dict[str, Any], error: type[Exception]
    ) -> None:
        async def build() -> None:
            WebSocketConnection(**kwargs)

        with pytest.raises(error) as connection_error:
            asyncio.run(build())
        with pytest.raises(error) as options_error:
            DriverOptions(**kwargs)
        assert str(connection_error.value) == str(options_error.value)
        assert next(iter(kwargs)) in str(connection_error.value)


def test_public_module() -> None:
    assert wsframe.options.ConnectionOptions is wsframe.ConnectionOptions
    assert wsframe.options.DEFAULT_MAX_MESSAGE_SIZE is wsframe.DEFAULT_MAX_MESSAGE_SIZE
    assert wsframe.options.DEFAULT_FRAGMENTATION_THRESHOLD is wsframe.DEFAULT_FRAGMENTATION_THRESHOLD
    for name in wsframe.options.__all__:
        if not name.isupper():
            assert getattr(wsframe.options, name).__module__ == "wsframe._options", name
