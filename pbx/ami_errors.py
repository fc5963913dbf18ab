"""What the AMI client (``pbx.ami``) raises; every error is an ``AmiError``."""

from __future__ import annotations

from pbx.protocol import Message


class AmiError(Exception):
    """Base of every AMI client error."""


class AmiConnectionError(AmiError, ConnectionError):
    """No usable link: refused, reset, EOF, or not connected right now."""


class AmiAuthError(AmiError):
    """Asterisk refused the login (wrong user/secret). Never retried."""


class AmiTimeoutError(AmiError, TimeoutError):
    """No response to an action in time."""


class AmiActionError(AmiError):
    """A list action was refused; ``response`` is Asterisk's error frame."""

    def __init__(self, action: str, response: Message) -> None:
        self.response = response
        super().__init__(f"{action}: {response.name}: {response.get('Message') or '(no message)'}")
