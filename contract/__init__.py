"""The pipeline contract, at the bottom of the import graph: what every stage agrees on.

``contract.pipeline``: channel order and units, window and hop, the contract's version and the
post-processing defaults. ``contract.resample``: the fixed-ratio resampler of the board's core
(ng_resample.h) and the IMUs' scales and rates. ``contract.input``: normalization and the int8
input rounding the board mirrors (ng_input.h). Each value is defined here once; the firmware's
copies are generated from it or tied to it by a test.

The import graph follows the data flow: contract <- capture <- training <- converter <- boardtools.
This package imports nothing of the project (tests/test_import_graph.py enforces it).
"""
