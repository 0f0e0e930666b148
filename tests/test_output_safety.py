"""Outputs survive kill -9 mid-write, and concurrent runs into one folder are serialised."""

import random
import signal
import subprocess
import sys
import textwrap
import time

import optimiser
from conftest import EXAMPLE, ROOT

# A child that writes two different results into one folder, alternately, forever.
WRITER = textwrap.dedent("""
    import sys, optimiser
    out = sys.argv[1]
    a = optimiser.solve(optimiser.load(sys.argv[2]))
    b = optimiser.solve(optimiser.load(sys.argv[2], overrides=["constraints.max_shift=0.2"]))
    a.write(out); b.write(out)
    print("ready", flush=True)
    while True:
        a.write(out)
        b.write(out)
""")


def _versions():
    a = optimiser.solve(optimiser.load(EXAMPLE))
    b = optimiser.solve(optimiser.load(EXAMPLE, overrides=["constraints.max_shift=0.2"]))
    fa, fb = a.files(), b.files()
    assert fa["allocation.csv"] != fb["allocation.csv"]  # the two runs differ
    return fa, fb


def test_kill_9_mid_write_leaves_complete_files_and_no_temporaries(tmp_path):
    fa, fb = _versions()
    rng = random.Random(7)
    trials = 50
    for trial in range(trials):
        out = tmp_path / f"t{trial}"
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(out), str(EXAMPLE)],
                                 stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        names = sorted(p.name for p in out.iterdir())
        assert names == sorted(fa), (trial, names)   # no stray temporary files
        for name in ("allocation.csv", "constraints.csv", "resources.csv"):
            data = (out / name).read_bytes()
            assert data in (fa[name], fb[name]), (trial, name)


def test_two_runs_into_one_folder_leave_one_complete_set(tmp_path):
    out = tmp_path / "shared"
    script = textwrap.dedent("""
        import sys, optimiser
        r = optimiser.solve(optimiser.load(sys.argv[2], overrides=sys.argv[3:]))
        for _ in range(20):
            r.write(sys.argv[1])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(out), str(EXAMPLE), *ov], cwd=ROOT)
             for ov in ([], ["constraints.max_shift=0.2"])]
    for p in procs:
        assert p.wait(timeout=120) == 0
    fa, fb = _versions()
    got = {n: (out / n).read_bytes() for n in ("allocation.csv", "constraints.csv", "resources.csv")}
    # every table comes from the same run: the folder lock serialises whole writes
    assert got == {n: fa[n] for n in got} or got == {n: fb[n] for n in got}
