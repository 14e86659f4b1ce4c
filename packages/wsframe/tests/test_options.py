"""Tests for `wsframe._options.ConnectionOptions` (limits of RFC 6455 section 10.4)."""

from __future__ import annotations

import dataclasses

import pytest

from wsframe import DEFAULT_FRAGMENTATION_THRESHOLD, DEFAULT_MAX_MESSAGE_SIZE, ConnectionOptions


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
    """Bad option values raise ValueError (bad value) or TypeError/ValueError (bad type), naming the field."""

    @pytest.mark.parametrize("field", ["max_message_size", "max_frame_size"])
    @pytest.mark.parametrize("value", [-1, -(2**40)])
    def test_negative_sizes(self, field: str, value: int) -> None:
        with pytest.raises(ValueError, match=field):
            ConnectionOptions(**{field: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["max_message_size", "max_frame_size"])
    @pytest.mark.parametrize("value", [True, False, 1.5, 10.0, "10"])
    def test_sizes_of_wrong_type(self, field: str, value: object) -> None:
        """A bool is an int to Python, but `max_message_size=True` is a mistake, not a limit of 1."""
        with pytest.raises((TypeError, ValueError), match=field):
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
        with pytest.raises((TypeError, ValueError), match="fragmentation_threshold"):
            ConnectionOptions(fragmentation_threshold=value)  # type: ignore[arg-type]

    def test_threshold_of_one(self) -> None:
        assert ConnectionOptions(fragmentation_threshold=1).fragmentation_threshold == 1

    @pytest.mark.parametrize("field", ["assemble_fragments", "fragment_outgoing_messages", "auto_pong"])
    @pytest.mark.parametrize("value", [0, 1, None, "yes"])
    def test_bad_flags(self, field: str, value: object) -> None:
        """`auto_pong=0` is not False: flags must be real bools."""
        with pytest.raises((TypeError, ValueError), match=field):
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
