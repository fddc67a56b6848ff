"""The capture package's one exception family: ``python -m capture`` turns any of these
into a single ``error: ...`` line on stderr and exit status 2."""


class CaptureError(Exception):
    """Something the user can fix: the message says what went wrong and how to fix it."""


class PortGone(CaptureError):
    """The serial port disappeared (board unplugged, virtual board stopped)."""


class ReadTimeout(CaptureError):
    """The board stopped sending samples."""
