"""Tests for `wsframe._mask` (RFC 6455 section 5.3) on both implementations.

Every behaviour test runs on the pure-Python `apply_mask_python` and on the C
`wsframe._speedups.apply_mask`; the C run is skipped only when the extension is not built.
Set ``WSFRAME_REQUIRE_SPEEDUPS=1`` (CI does) to turn a missing extension into a failure.

Non-contiguous buffers (``memoryview(b)[::2]``) are handled, not rejected: the Python path
reads them through ``int.from_bytes`` (which copies them), the C path copies them into the
result and masks it there; both give the masked bytes of ``bytes(view)``.
"""

from __future__ import annotations

import array
import inspect
import itertools
import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsframe import _mask
from wsframe._mask import apply_mask_python

Buffer = bytes | bytearray | memoryview
ApplyMask = Callable[[Buffer, bytes], bytes]

apply_mask_c: ApplyMask | None
try:
    from wsframe._speedups import apply_mask as _imported_c
except ImportError as exc:
    apply_mask_c = None
    SPEEDUPS_IMPORT_ERROR = f"{type(exc).__name__}: {exc}"
else:
    apply_mask_c = _imported_c
    SPEEDUPS_IMPORT_ERROR = ""

SKIP_C = pytest.mark.skipif(
    apply_mask_c is None,
    reason=(
        "C accelerator wsframe._speedups not built (no compiler at install time, "
        f"or WSFRAME_BUILD_EXTENSION=no): {SPEEDUPS_IMPORT_ERROR}"
    ),
)

IMPLEMENTATIONS = [
    pytest.param(apply_mask_python, id="python"),
    pytest.param(apply_mask_c, id="c", marks=SKIP_C),
]

RFC_MASK = bytes.fromhex("37fa213d")
MASKS = [
    RFC_MASK,
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x01\x02\x03\x04",
    b"\x80\x7f\xaa\x55",
]


def reference(data: bytes, mask: bytes) -> bytes:
    """Mask byte by byte, the way RFC 6455 section 5.3 states it: j = i MOD 4."""
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def payload(n: int) -> bytes:
    """A deterministic payload of `n` bytes covering every byte value."""
    return bytes((i * 37 + 11) & 0xFF for i in range(n))


@pytest.mark.parametrize("apply_mask", IMPLEMENTATIONS)
class TestApplyMask:
    """Behaviour shared by the pure-Python and the C implementation."""

    def test_rfc6455_example(self, apply_mask: ApplyMask) -> None:
        # RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d.
        assert apply_mask(b"Hello", RFC_MASK) == bytes.fromhex("7f9f4d5158")
        assert apply_mask(bytes.fromhex("7f9f4d5158"), RFC_MASK) == b"Hello"

    def test_known_vectors(self, apply_mask: ApplyMask) -> None:
        assert apply_mask(b"", RFC_MASK) == b""
        assert apply_mask(b"abcdefgh", b"\x00\x00\x00\x00") == b"abcdefgh"
        assert apply_mask(b"\x00" * 9, b"\xff\xff\xff\xff") == b"\xff" * 9
        assert apply_mask(b"\x00" * 6, b"\x01\x02\x03\x04") == b"\x01\x02\x03\x04\x01\x02"

    @pytest.mark.parametrize("mask", MASKS, ids=lambda m: m.hex())
    @pytest.mark.parametrize("length", range(71))
    def test_every_length_matches_reference(self, apply_mask: ApplyMask, length: int, mask: bytes) -> None:
        # 0..70 crosses every tail size after the 16- and 8-byte blocks of the C loop.
        data = payload(length)
        result = apply_mask(data, mask)
        assert type(result) is bytes
        assert result == reference(data, mask)

    @pytest.mark.parametrize("offset", range(8))
    def test_unaligned_views(self, apply_mask: ApplyMask, offset: int) -> None:
        data = payload(100)
        view = memoryview(data)[offset:]
        assert apply_mask(view, RFC_MASK) == reference(data[offset:], RFC_MASK)

    @pytest.mark.parametrize("mask", MASKS, ids=lambda m: m.hex())
    def test_involution(self, apply_mask: ApplyMask, mask: bytes) -> None:
        data = payload(1000)
        assert apply_mask(apply_mask(data, mask), mask) == data

    def test_bytearray_input(self, apply_mask: ApplyMask) -> None:
        data = bytearray(b"Hello")
        result = apply_mask(data, RFC_MASK)
        assert type(result) is bytes
        assert result == bytes.fromhex("7f9f4d5158")
        assert data == bytearray(b"Hello")  # the input is not masked in place

    def test_memoryview_input(self, apply_mask: ApplyMask) -> None:
        data = payload(37)
        result = apply_mask(memoryview(data), RFC_MASK)
        assert type(result) is bytes
        assert result == reference(data, RFC_MASK)

    def test_bytearray_mask(self, apply_mask: ApplyMask) -> None:
        call: Callable[..., bytes] = apply_mask
        assert call(b"Hello", bytearray(RFC_MASK)) == bytes.fromhex("7f9f4d5158")

    def test_non_contiguous_memoryview_is_handled(self, apply_mask: ApplyMask) -> None:
        data = payload(203)
        view = memoryview(data)[::2]
        assert not view.c_contiguous
        assert apply_mask(view, RFC_MASK) == reference(data[::2], RFC_MASK)

    @pytest.mark.parametrize("mask", [b"", b"\x01", b"\x01\x02\x03", b"\x01\x02\x03\x04\x05"])
    @pytest.mark.parametrize("data", [b"", b"Hello"])
    def test_wrong_mask_length(self, apply_mask: ApplyMask, data: bytes, mask: bytes) -> None:
        with pytest.raises(ValueError, match="mask must contain 4 bytes"):
            apply_mask(data, mask)

    def test_str_data_is_rejected(self, apply_mask: ApplyMask) -> None:
        call: Callable[..., bytes] = apply_mask
        with pytest.raises(TypeError):
            call("Hello", RFC_MASK)

    @pytest.mark.parametrize("extra", [0, 3])
    def test_one_mebibyte(self, apply_mask: ApplyMask, extra: int) -> None:
        # Above the C path's 64 KiB threshold: masked with the GIL released.
        data = os.urandom(1024 * 1024 + extra)
        key = itertools.cycle(RFC_MASK)
        expected = bytes(b ^ k for b, k in zip(data, key, strict=False))
        assert apply_mask(data, RFC_MASK) == expected

    def test_keyword_arguments(self, apply_mask: ApplyMask) -> None:
        call: Callable[..., bytes] = apply_mask
        assert call(data=b"Hello", mask=RFC_MASK) == bytes.fromhex("7f9f4d5158")
        assert call(b"Hello", mask=RFC_MASK) == bytes.fromhex("7f9f4d5158")


def c_call() -> Callable[..., bytes]:
    """The C function, typed to accept any arguments (the tests pass wrong ones)."""
    assert apply_mask_c is not None
    return apply_mask_c


@SKIP_C
class TestCOnly:
    """What only the C implementation accepts or checks."""

    def test_any_buffer_as_mask(self) -> None:
        call = c_call()
        masked = bytes.fromhex("7f9f4d5158")
        assert call(b"Hello", memoryview(RFC_MASK)) == masked
        assert call(array.array("B", b"Hello"), array.array("B", RFC_MASK)) == masked

    def test_bad_arguments(self) -> None:
        call = c_call()
        with pytest.raises(TypeError, match="missing required argument 'mask'"):
            call(b"Hello")
        with pytest.raises(TypeError, match="takes 2 positional arguments but 3"):
            call(b"Hello", RFC_MASK, RFC_MASK)
        with pytest.raises(TypeError, match="unexpected keyword argument 'key'"):
            call(b"Hello", key=RFC_MASK)
        with pytest.raises(TypeError, match="multiple values for argument 'data'"):
            call(b"Hello", RFC_MASK, data=b"x")
        with pytest.raises(TypeError):
            call(b"Hello", "abcd")

    def test_signature_is_introspectable(self) -> None:
        assert str(inspect.signature(c_call())) == "(data, mask)"


@SKIP_C
@given(
    data=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    offset=st.integers(0, 15),
)
def test_c_equals_python(data: bytes, mask: bytes, offset: int) -> None:
    assert apply_mask_c is not None
    view = memoryview(data)[offset:]
    assert apply_mask_c(view, mask) == apply_mask_python(view, mask)


@given(data=st.binary(max_size=300), mask=st.binary(min_size=4, max_size=4))
def test_python_matches_reference(data: bytes, mask: bytes) -> None:
    assert apply_mask_python(data, mask) == reference(data, mask)


def test_speedups_built_when_required() -> None:
    """Fails when CI requires the accelerator (WSFRAME_REQUIRE_SPEEDUPS=1) and it is missing."""
    if os.environ.get("WSFRAME_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("WSFRAME_REQUIRE_SPEEDUPS=1 not set: the C accelerator is optional here")
    assert apply_mask_c is not None, (
        f"WSFRAME_REQUIRE_SPEEDUPS=1 but wsframe._speedups is not importable: {SPEEDUPS_IMPORT_ERROR}"
    )


def test_selected_implementation_matches_flag() -> None:
    if _mask.SPEEDUPS:
        assert apply_mask_c is not None
        assert _mask.apply_mask is apply_mask_c
    else:
        assert _mask.apply_mask is apply_mask_python
        no_speedups = bool(os.environ.get("WSFRAME_NO_SPEEDUPS"))
        assert no_speedups or apply_mask_c is None


@pytest.mark.parametrize(("value", "expected"), [("1", "False wsframe._mask"), ("", None)])
def test_no_speedups_environment_variable(value: str, expected: str | None) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), WSFRAME_NO_SPEEDUPS=value)
    code = "from wsframe import _mask\nprint(_mask.SPEEDUPS, _mask.apply_mask.__module__)\n"
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if expected is None:  # empty value: whatever is built is used
        expected = "True wsframe._speedups" if apply_mask_c is not None else "False wsframe._mask"
    assert output == expected


def test_random_key_bytes_are_fresh() -> None:
    """Masking keys: 4 random bytes each, not repeated (1,024 per read of the OS source)."""
    from wsframe._mask import random_key_bytes

    keys = [random_key_bytes(4) for _ in range(5000)]
    assert all(type(key) is bytes and len(key) == 4 for key in keys)
    # 5,000 draws from 2**32 values: a repeat has a probability of about 0.3%.
    assert len(set(keys)) >= 4998
    assert len(random_key_bytes(7)) == 7


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_reuse_the_parents_keys() -> None:
    from wsframe._mask import random_key_bytes

    random_key_bytes(4)  # the pool holds unused keys now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, b"".join(random_key_bytes(4) for _ in range(8)))
        os._exit(0)
    os.close(write)
    child = b""
    while len(child) < 32:
        chunk = os.read(read, 32)
        if not chunk:
            break
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(random_key_bytes(4) for _ in range(8))
    assert len(child) == 32
    assert child != parent
