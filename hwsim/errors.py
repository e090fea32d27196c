"""The error type every hwnas module raises for bad input: one line naming the file/field and value."""

from __future__ import annotations


class HwnasError(ValueError):
    """Bad input. ``str(err)`` is a one-line message naming where (file, line, field) and the value.

    The CLI prints it as ``hwnas: error: <message>`` and exits with status 2, never with a traceback.
    """
