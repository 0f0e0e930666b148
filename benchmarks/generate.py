"""Generate a synthetic national-style scenario: many localities, the shipped pathways.

Each locality gets its own community hub (make, fixed cost, overhead, staff hours); one acute
trust (buy, block contract), a GP federation and a third-sector provider serve everyone.
Prices and costs are the shipped example's, varied by locality so that plans differ.

    python benchmarks/generate.py --localities 1000 --out /tmp/bench
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent


def generate(localities: int, out: Path, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    base = yaml.safe_load((ROOT / "configs" / "northshire.yaml").read_text())
    (out / "pathways").mkdir(parents=True, exist_ok=True)
    (out / "configs").mkdir(parents=True, exist_ok=True)
    for p in base["pathways"]:
        shutil.copy(ROOT / "configs" / p, out / "pathways")
    provs = base["providers"]
    hubs = [v for v in provs.values() if v["mode"] == "make"]
    others = {k: v for k, v in provs.items() if v["mode"] == "buy"}
    for v in others.values():
        v.pop("serves", None)
    names = [f"loc{i:05d}" for i in range(localities)]
    locs = {n: {"population": int(rng.integers(20_000, 120_000))} for n in names}
    providers = dict(others)
    resources = {}
    for i, n in enumerate(names):
        hub = dict(hubs[i % len(hubs)])
        hub = {k: v for k, v in hub.items() if k != "current_share"}
        hub["serves"] = [n]
        factor = float(rng.uniform(0.85, 1.15))
        hub["costs"] = {a: round(c * factor, 2) for a, c in hub["costs"].items()}
        res = f"nurse_{n}"
        hub["uses"] = {a: {res: 1.0} for a in hub["costs"]}
        hub["min_volume"] = 0
        resources[res] = {"capacity": int(rng.integers(500, 3000)),
                          "expand": {"step": 1600, "cost": 56000, "max_steps": 3}}
        providers[f"hub_{n}"] = hub
    acute = next(k for k, v in others.items() if v["setting"] == "hospital")
    providers[acute]["block_contract"] = float(providers[acute].get("block_contract", 0)) * localities / 3
    config = {
        "scenario": f"Synthetic {localities} localities",
        "pathways": [f"../pathways/{Path(p).name}" for p in base["pathways"]],
        "localities": locs,
        "resources": resources,
        "providers": providers,
        "constraints": {"min_quality": base["constraints"]["min_quality"],
                        "max_shift": base["constraints"].get("max_shift", 0.5)},
        "solve": {"mode": "lp", "backend": "highs"},
    }
    path = out / "configs" / "synthetic.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--localities", type=int, default=100)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    print(generate(a.localities, a.out))
