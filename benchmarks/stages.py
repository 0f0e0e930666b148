"""``carepath solve`` with stage timings, for an engine whose CLI has no ``--timings`` yet.

    python benchmarks/stages.py solve CONFIG --out DIR --mode lp --backend highs

Runs exactly the command line's code path (``optimiser.cli.main`` with the same
arguments), with the stage functions wrapped in timers, and prints the line the
``--timings`` flag prints, to stderr::

    timings: {"import": ..., "load": ..., "instance": ..., "compile": ..., "backend_load": ...,
              "solver": ..., "results": ..., "write": ..., "total": ...}

Stages (seconds): ``import`` the package; ``load`` read, parse and validate the YAML (and
tables), excluding ``instance`` (building the instance tables and the checks on them);
``compile`` the sparse model; ``backend_load`` passing it to HiGHS; ``solver`` HiGHS's
``run()``; ``results`` tables, summary and the independent check; ``write`` the output
files; ``total`` from the start of this script to the end (interpreter start-up excluded).
``benchmarks/run.py`` uses this only when ``carepath solve --timings`` is not available.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import optimiser  # noqa: E402,F401
import optimiser.api as api  # noqa: E402
import optimiser.cli as cli  # noqa: E402
from optimiser.backends import highs as highs_backend  # noqa: E402
from optimiser.results.result import Result  # noqa: E402

loadmod = sys.modules["optimiser.load"]  # the package exports a function of that name

TIMES = {k: 0.0 for k in ("import", "load", "instance", "compile", "backend_load", "solver",
                          "results", "write", "total")}
TIMES["import"] = time.perf_counter() - T0


def _timed(fn, key):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[key] += time.perf_counter() - start
    return wrapper


def _install() -> None:
    loadmod.build = _timed(loadmod.build, "instance")          # instance tables
    api.load = _timed(api.load, "load")                        # includes instance: subtracted below
    api.compile_model = _timed(api.compile_model, "compile")
    api.build_result = _timed(api.build_result, "results")
    hb = highs_backend.HighsBackend
    hb._load = staticmethod(_timed(hb.__dict__["_load"].__func__, "backend_load"))
    original_run = highs_backend.run_interruptible
    highs_backend.run_interruptible = _timed(original_run, "solver")
    Result.write = _timed(Result.write, "write")


def main(argv: list[str]) -> int:
    _install()
    try:
        return cli.main(argv)
    finally:
        TIMES["load"] -= TIMES["instance"]
        TIMES["total"] = time.perf_counter() - T0
        print("timings: " + json.dumps({k: round(v, 4) for k, v in TIMES.items()}), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
