"""The board's wire: how the host and the board (or the virtual board) talk.

- ``protocol_spec``: every constant and payload layout of the frames and commands, defined once;
  ``protocol_header`` generates the firmware's copy (``nanogest gen-protocol-header``).
- ``protocol``: the pure protocol, no I/O: frame encoder, ``FrameDecoder`` (bytes in, frames out),
  ``SampleTracker`` (lost samples and timing), command lines.
- ``ports``: serial ports and ``sim://`` virtual boards opened as one ``Port``.
- ``session``: one conversation over a port: hello, device info, sample streams.

Recording (``capture.recorder``) and the board-side tools (``boardtools``) use it; importing files
(``capture.importing``) does not need it beyond the board and IMU names of ``protocol_spec``.
"""
