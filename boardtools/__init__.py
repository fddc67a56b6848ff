"""nanogest board-side tools, at the top of the import graph: they use every stage.

``replay`` (a dataset through the board's recognition path against the laptop's), ``monitor``
(a board's detections live), ``verify-board`` (the board runs the run's model), ``demo`` (the
whole pipeline through the virtual board). Run them as ``nanogest COMMAND`` (or ``python -m
boardtools COMMAND``) and ``make demo``.
"""
