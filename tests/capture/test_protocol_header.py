"""The firmware's protocol header is exactly what protocol_spec.py renders."""

import subprocess
import sys

from capture.wire.protocol_header import HEADER_PATH, render_header


def test_committed_header_matches_the_spec():
    committed = HEADER_PATH.read_text()
    assert committed == render_header(), (
        f"{HEADER_PATH} is out of date with capture/wire/protocol_spec.py; run `python -m capture gen-protocol-header`")


def test_gen_protocol_header_command_writes_the_same_text(tmp_path):
    out = tmp_path / "defs.h"
    proc = subprocess.run([sys.executable, "-m", "capture", "gen-protocol-header", "--path", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == render_header()
    assert proc.stdout.strip() == str(out)
