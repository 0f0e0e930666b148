"""Rewrite the golden LP snapshots ``tests/golden/<kind>/model.lp`` on purpose.

    python tests/golden/regenerate.py            # every case
    python tests/golden/regenerate.py pace flow  # only these cases

Each case is a tiny scenario ``tests/golden/<kind>/config.yaml`` whose compiled model shows
one constraint family; its header comment holds that family's math worked out by hand.
After regenerating, read the printed diff and check the changed rows against that comment
(and SPEC section 3) before committing: a snapshot is only worth having if a person has
checked it. ``tests/test_golden.py`` compares against these files and never writes them.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent
SNAPSHOT = "model.lp"


def cases() -> list[Path]:
    """Every case folder (one holding a ``config.yaml``), sorted by name."""
    return sorted(p.parent for p in GOLDEN.glob("*/config.yaml"))


def compile_case(case: Path):
    """The compiled :class:`~optimiser.model.LinearModel` of one case."""
    import optimiser
    from optimiser.compile import compile_model

    return compile_model(optimiser.load(case / "config.yaml").instance)


def render(model) -> str:
    """The snapshot text of a compiled model."""
    from optimiser.export import to_lp

    return to_lp(model)


def diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{name} (snapshot)", tofile=f"{name} (compiled)"))


def main(argv: list[str]) -> int:
    known = {c.name: c for c in cases()}
    unknown = [a for a in argv if a not in known]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; cases: {', '.join(known)}", file=sys.stderr)
        return 2
    changed = 0
    for name in argv or list(known):
        case = known[name]
        path = case / SNAPSHOT
        new = render(compile_case(case))
        old = path.read_text() if path.exists() else ""
        rel = path.relative_to(GOLDEN.parent.parent)
        if new == old:
            print(f"unchanged  {rel}")
            continue
        changed += 1
        path.write_text(new)
        print(f"{'rewrote' if old else 'created'}    {rel}")
        sys.stdout.write(diff(old, new, str(rel)))
    print(f"{changed} snapshot(s) changed; check each changed row against the hand-written math "
          f"in its config.yaml before committing.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
