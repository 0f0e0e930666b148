"""``python -m optimiser`` is the ``carepath`` command."""

from .cli import run

run()
