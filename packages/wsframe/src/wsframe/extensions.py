"""Extensions (RFC 6455 section 9) and permessage-deflate (RFC 7692).

An application that only turns compression on needs the two factories, which `wsframe`
also exports: [`ClientPerMessageDeflate`][wsframe.ClientPerMessageDeflate] and
[`ServerPerMessageDeflate`][wsframe.ServerPerMessageDeflate]. Writing an extension of
your own takes the rest: subclass [`Extension`][wsframe.extensions.Extension], write a
[`ServerExtensionFactory`][wsframe.extensions.ServerExtensionFactory] and a
[`ClientExtensionFactory`][wsframe.extensions.ClientExtensionFactory], and claim RSV bits
with [`RSV1`][wsframe.extensions.RSV1], [`RSV2`][wsframe.extensions.RSV2] or
[`RSV3`][wsframe.extensions.RSV3]. A driver that does its own opening handshake negotiates
with [`negotiate_server_extensions`][wsframe.extensions.negotiate_server_extensions] and
[`negotiate_client_extensions`][wsframe.extensions.negotiate_client_extensions].
"""

from __future__ import annotations

from ._extensions import (
    RSV1,
    RSV2,
    RSV3,
    ClientExtensionFactory,
    Extension,
    ExtensionParameters,
    ServerExtensionFactory,
    negotiate_client_extensions,
    negotiate_server_extensions,
)
from ._permessage_deflate import (
    ClientPerMessageDeflate,
    PerMessageDeflate,
    ServerPerMessageDeflate,
)

__all__ = [
    # _extensions
    "RSV1",
    "RSV2",
    "RSV3",
    "ClientExtensionFactory",
    "Extension",
    "ExtensionParameters",
    "ServerExtensionFactory",
    "negotiate_client_extensions",
    "negotiate_server_extensions",
    # _permessage_deflate
    "ClientPerMessageDeflate",
    "PerMessageDeflate",
    "ServerPerMessageDeflate",
]
