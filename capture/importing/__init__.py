"""Importing recordings made elsewhere (``nanogest import``, ``import-arduino``) into a dataset.

- ``table_reader``: a file's text into rows (delimiter, header, bad lines with their numbers).
- ``columns``: what the columns mean (header aliases, units, boards, axes).
- ``takes``: cutting rows into takes, and the time column.
- ``importer``: files and folders into ``DATA_DIR`` (``import_paths``), one report per file.
- ``arduino_import``: the IMU_Capture sketch's output (``import_file``).
- ``edge_impulse``: Edge Impulse's sample format, read by the importer and written by ``export-ei``.

Takes are written with ``capture.dataset``; nothing here talks to a board (``capture.wire``).
"""
