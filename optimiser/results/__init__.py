"""Results: tables, summary, the independent solution check and the writers (SPEC section 5)."""

from .result import Result, write_atomic

__all__ = ["Result", "write_atomic"]
