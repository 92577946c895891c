"""The ``python -m emotion`` sub-commands, one module each (dispatched by `emotion.cli`)."""
