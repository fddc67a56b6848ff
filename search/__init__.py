"""The model search (``nanogest search`` / ``search-worker``): an Optuna study whose
trials train with training's split rules and are scored by the real converter on int8 accuracy,
model bytes, arena bytes and estimated latency.

It sits above the converter in the import graph (contract <- capture <- training <- converter <-
search), since every trial runs both; training's command line offers it under its first names.
"""
