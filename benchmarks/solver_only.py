"""Reference 1: the same LP solved by HiGHS alone, from an MPS file.

    python benchmarks/solver_only.py export CONFIG MODEL.mps   # engine load + compile, write MPS
    python benchmarks/solver_only.py run MODEL.mps               # HiGHS alone: readModel, run()

``export`` builds the model exactly as ``carepath solve --mode lp`` does (load, compile,
LP relaxation, passed to highspy as the HiGHS backend passes it) and writes it with
``Highs.writeModel``. ``run`` is meant to be its own process (``benchmarks/run.py`` starts
it and records its peak memory): it reads the MPS file and times only ``Highs.run()``, with
the options the engine's backend sets (no output, seed 0). Each prints one JSON line on
stdout.
"""

from __future__ import annotations

import json
import sys
import time


def export(config: str, path: str) -> dict:
    from optimiser import load
    from optimiser.backends.base import SolveOptions
    from optimiser.backends.highs import HighsBackend
    from optimiser.compile import compile_model

    t0 = time.perf_counter()
    model = compile_model(load(config).instance).relaxed()
    h = HighsBackend._load(model, SolveOptions())
    status = h.writeModel(path)
    return {"status": str(status), "variables": model.num_cols, "constraints": model.num_rows,
            "nonzeros": model.num_nonzeros, "seconds": round(time.perf_counter() - t0, 3)}


def run(path: str) -> dict:
    t0 = time.perf_counter()
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    t1 = time.perf_counter()
    h.readModel(path)
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    lp = h.getLp()
    return {"status": h.modelStatusToString(h.getModelStatus()),
            "objective": h.getInfo().objective_function_value,
            "variables": lp.num_col_, "constraints": lp.num_row_,
            "nonzeros": len(lp.a_matrix_.value_),
            "import_s": round(t1 - t0, 3), "read_s": round(t2 - t1, 3), "run_s": round(t3 - t2, 3),
            "version": h.version()}


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "export" and len(sys.argv) == 4:
        print(json.dumps(export(sys.argv[2], sys.argv[3])))
    elif cmd == "run" and len(sys.argv) == 3:
        print(json.dumps(run(sys.argv[2])))
    else:
        sys.exit(__doc__)
