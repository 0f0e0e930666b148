"""``carepath sweep SWEEP [--workers N] [--dask ADDRESS] [--out DIR]`` (SPEC section 8).

Prints a progress bar (scenarios done, failed, remaining, rate, time left) on a terminal,
then a short summary. Exit 0 when every scenario has an answer (infeasible ones included;
failed ones are recorded in sweep.csv and the exit code is 1 only if some failed), 2 for an
invalid sweep file or base scenario, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    from ..cli import _gap, _positive, _whole

    w = sub.add_parser("sweep", help="solve a grid and Monte Carlo samples of a scenario")
    w.add_argument("config", metavar="SWEEP", help="sweep file (YAML: base, vary, samples)")
    w.add_argument("--workers", type=_whole(1), metavar="N",
                   help="local worker processes (default: one per CPU)")
    w.add_argument("--dask", metavar="ADDRESS",
                   help="run on an existing Dask cluster (scheduler address, e.g. tcp://host:8786)")
    w.add_argument("--out", metavar="DIR", help="output folder (default runs/sweep-<file name>/)")
    w.add_argument("--mode", choices=["lp", "milp", "cp"], help="override the solve mode")
    w.add_argument("--backend", metavar="NAME", help="override the backend")
    w.add_argument("--time-limit", type=_positive, metavar="S", help="seconds per scenario")
    w.add_argument("--mip-gap", type=_gap, metavar="G", help="relative MIP gap")
    w.add_argument("--allow-path", dest="allow_paths", action="append", default=[], metavar="DIR",
                   help="another folder the base and pathway files may come from (repeatable)")
    w.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG charts")


def run(args: argparse.Namespace) -> int:
    from . import load_sweep, sweep
    from ..results.text import money

    sw = load_sweep(args.config, allow_paths=args.allow_paths)
    with _Bar(sw.size, f"{sw.name}: {sw.size:,} scenarios") as bar:
        res = sweep(sw, out=args.out, workers=args.workers, dask=args.dask, mode=args.mode,
                    backend=args.backend, time_limit=args.time_limit, mip_gap=args.mip_gap,
                    allow_paths=tuple(args.allow_paths), plots=args.plots, progress=bar.update)
    s = res.summary
    cur = s["currency"]
    n = s["scenarios"]
    print(f"{sw.name}: {n['total']:,} scenarios ({res.solved_now:,} solved now): "
          + ", ".join(f"{v:,} {k}" for k, v in n.items() if k != "total"))
    if s["objective"]:
        o, v = s["objective"], s["savings"]
        print(f"  cost: median {money(o['p50'], cur)}, 90% between {money(o['p05'], cur)} and "
              f"{money(o['p95'], cur)}")
        print(f"  savings: median {money(v['p50'], cur)}, 90% between {money(v['p05'], cur)} and "
              f"{money(v['p95'], cur)}")
    if s["budget_breach_probability"] is not None:
        print(f"  the budget is breached in {s['budget_breach_probability']:.1%} of scenarios")
    top = list(s["binding_by_kind"].items())[:5]
    if top:
        print("  limits that bind most often: " + ", ".join(f"{k} {v:.0%}" for k, v in top))
    folder = res.files[0].parent if res.files else args.out
    print(f"Outputs written to {folder}")
    return 1 if n.get("error") else 0


class _Bar:
    """A rich progress bar on a terminal (stderr); a final line elsewhere."""

    def __init__(self, total: int, title: str):
        self.total, self.title = total, title
        self.live = sys.stderr.isatty()
        self.progress = None
        self.done = self.failed = 0

    def __enter__(self):
        if self.live:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("failed {task.fields[failed]}  left {task.fields[left]}"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False)
            self.progress.__enter__()
            self.task = self.progress.add_task(self.title, total=self.total, failed=0,
                                               left=self.total, rate="")
        return self

    def update(self, done: int, failed: int, total: int) -> None:
        self.done, self.failed = done, failed
        if self.progress is not None:
            task = self.progress.tasks[0]
            speed = task.speed
            self.progress.update(self.task, completed=done + failed, total=total, failed=failed,
                                 left=total - done - failed,
                                 rate=f"{speed:,.1f}/s" if speed else "")

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        elif exc[0] is None:
            print(f"{self.title}: {self.done:,} done, {self.failed:,} failed", file=sys.stderr)
        return False
