"""Options and their validation, shared by every driver.

[`ConnectionOptions`][wsframe.ConnectionOptions] (also importable from `wsframe`) holds
the sans-IO connection's limits and fragmentation; [`DriverOptions`][wsframe.options.DriverOptions]
the timers and flow control of a driver (wsframe.asyncio's connection, wsserver,
wsclient). Both are frozen dataclasses validated when built. The validators they use,
[`check_int`][wsframe.options.check_int], [`check_number`][wsframe.options.check_number]
and [`check_bool`][wsframe.options.check_bool], check every other option of wskit too,
so that one mistake raises one exception everywhere: `TypeError` for a wrong type (a
bool where a number is expected included), `ValueError` for a value out of range, each
naming the option. The defaults are named constants, listed in one table in the
[configuration reference](../reference/configuration.md#shared-options).
"""

from __future__ import annotations

from ._options import (
    DEFAULT_CLIENT_MAX_MESSAGE_SIZE,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_QUEUE,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_WRITE_LIMIT,
    ConnectionOptions,
    DriverOptions,
    check_bool,
    check_int,
    check_number,
)

__all__ = [
    "DEFAULT_CLIENT_MAX_MESSAGE_SIZE",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_WRITE_LIMIT",
    "ConnectionOptions",
    "DriverOptions",
    "check_bool",
    "check_int",
    "check_number",
]
