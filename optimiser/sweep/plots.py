"""The sweep's charts (PNG, matplotlib): see :func:`write_plots`."""

from __future__ import annotations


def write_plots(folder, frame, summary, sweep) -> list:
    """The charts of a sweep; written by :mod:`.report`."""
    return []
