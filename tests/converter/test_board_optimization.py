"""The -O level the ARM measurements build at is the one platformio.ini builds the firmware at."""

from __future__ import annotations

from converter.board import board_tflm


def test_the_arm_target_builds_at_platformio_ini_s_level():
    level = board_tflm.board_optimization()
    text = board_tflm.PLATFORMIO_INI.read_text()
    assert level == "-O2" and f"build_flags = -ffp-contract=off {level}" in text
    assert "-Os" in text.split("build_unflags =")[1].splitlines()[0]  # the framework's -Os is taken away
    assert level in board_tflm.CORTEX_M4F.flags and "-Os" not in board_tflm.CORTEX_M4F.flags


def test_a_missing_file_or_no_level_means_the_framework_s_os(tmp_path):
    assert board_tflm.board_optimization(tmp_path / "none.ini") == "-Os"
    ini = tmp_path / "platformio.ini"
    ini.write_text("[env:x]\nbuild_flags = -ffp-contract=off -DX=-O3\n")  # a -O inside another flag is none
    assert board_tflm.board_optimization(ini) == "-Os"
    ini.write_text("[env:x]\nbuild_flags = -O3 -ffp-contract=off -O1\n")
    assert board_tflm.board_optimization(ini) == "-O1"  # the last wins, as in gcc
