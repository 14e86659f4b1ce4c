"""Frames (RFC 6455 section 5): opcodes, the frame object, its encoder and parser, masking, UTF-8.

What an extension, a fuzzer or a driver that handles raw frames needs; an application
that only uses [`Connection`][wsframe.Connection] needs none of it.

* [`Opcode`][wsframe.frames.Opcode] and [`Frame`][wsframe.frames.Frame], with the opcode
  sets [`DATA_OPCODES`][wsframe.frames.DATA_OPCODES] and
  [`CONTROL_OPCODES`][wsframe.frames.CONTROL_OPCODES];
* [`encode_frame`][wsframe.frames.encode_frame] and
  [`frame_header`][wsframe.frames.frame_header] build frames,
  [`FrameParser`][wsframe.frames.FrameParser] and
  [`check_frame_header`][wsframe.frames.check_frame_header] read and check them;
* [`apply_mask`][wsframe.frames.apply_mask] (the C accelerator when
  [`SPEEDUPS`][wsframe.SPEEDUPS] is true) and
  [`apply_mask_python`][wsframe.frames.apply_mask_python] (section 5.3);
* [`Utf8Decoder`][wsframe.frames.Utf8Decoder] and
  [`is_valid_utf8`][wsframe.frames.is_valid_utf8], the validation of text payloads
  (section 8.1).
"""

from __future__ import annotations

from ._frames import (
    CONTROL_OPCODES,
    DATA_OPCODES,
    MAX_CONTROL_PAYLOAD,
    Frame,
    FrameParser,
    Opcode,
    check_frame_header,
    encode_frame,
    frame_header,
)
from ._mask import apply_mask, apply_mask_python
from ._utf8 import Utf8Decoder, is_valid_utf8

__all__ = [
    # _frames
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "MAX_CONTROL_PAYLOAD",
    "Frame",
    "FrameParser",
    "Opcode",
    "check_frame_header",
    "encode_frame",
    "frame_header",
    # _mask
    "apply_mask",
    "apply_mask_python",
    # _utf8
    "Utf8Decoder",
    "is_valid_utf8",
]
