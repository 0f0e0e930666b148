"""The designs of a pathway (SPEC section 11): today's steps (``current``) and each variant.

A variant's design is today's steps with ``replace`` overlaid (the keys a change gives
replace the step's, the others are kept), ``remove`` dropped and ``add`` appended. Every
step of every design keeps its activity key ``pathway.step``, so prices, costs, quality,
``uses`` and ``units`` written for a key apply in every design that has the step.

:func:`design_issues` says, located in the pathway file, what makes a variant unusable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Issue
from .schema import Pathway, Step
from .validate import suggest
from .yamlio import Document

CURRENT = "current"
"""The id of the design in use today (the pathway's own ``steps``)."""


@dataclass(frozen=True)
class Design:
    """One way of running a pathway."""

    variant: str
    """``current`` or the variant's id."""
    name: str
    adoption_cost: float
    """One-off cost per locality that adopts it (0 for ``current``)."""
    steps: tuple[Step, ...]
    where: tuple[tuple, ...]
    """Where each step is written in the pathway file (a key path)."""


def designs(p: Pathway) -> list[Design]:
    """``current`` and then each variant, in file order. Assumes :func:`design_issues` found
    nothing (a change naming an unknown step is skipped)."""
    out = [Design(CURRENT, p.name or "today's design", 0.0, tuple(p.steps),
                  tuple(("steps", i) for i in range(len(p.steps))))]
    for w, var in p.variants.items():
        changes = {c.step: (j, c) for j, c in enumerate(var.replace)}
        steps: list[Step] = []
        where: list[tuple] = []
        for i, s in enumerate(p.steps):
            if s.step in var.remove:
                continue
            if s.step in changes:
                j, c = changes[s.step]
                s = s.model_copy(update={k: getattr(c, k) for k in c.model_fields_set
                                         if k != "step"})
                where.append(("variants", w, "replace", j))
            else:
                where.append(("steps", i))
            steps.append(s)
        steps += var.add
        where += [("variants", w, "add", j) for j in range(len(var.add))]
        out.append(Design(w, var.name or w, float(var.adoption_cost), tuple(steps), tuple(where)))
    return out


def design_issues(p: Pathway, pdoc: Document) -> list[Issue]:
    """A variant named ``current``; a change or removal naming a step today's design does not
    have (or naming it twice); an added step that clashes with one of its design; and, in
    each variant's design, the step rules of section 2.1 (avoids within the design, only
    from an optional step to a fixed one; ``max_share`` on the step's settings)."""
    out: list[Issue] = []
    today = [s.step for s in p.steps]
    broken: set[str] = set()
    for w, var in p.variants.items():
        base = ("variants", w)
        before = len(out)
        if w == CURRENT:
            out.append(pdoc.issue(base, "'current' is today's design (the pathway's own "
                                  "steps); give the variant another id", key=True))
        seen: dict[str, str] = {}
        for j, c in enumerate(var.replace):
            if c.step not in today:
                out.append(pdoc.issue(base + ("replace", j, "step"), f"no step '{c.step}' in "
                                      f"today's design of '{p.pathway}'" + suggest(c.step, today)))
            elif c.step in seen:
                out.append(pdoc.issue(base + ("replace", j, "step"), f"step '{c.step}' is "
                                      f"already {seen[c.step]} in this variant"))
            seen.setdefault(c.step, "replaced")
        for j, r in enumerate(var.remove):
            if r not in today:
                out.append(pdoc.issue(base + ("remove", j), f"no step '{r}' in today's design "
                                      f"of '{p.pathway}'" + suggest(r, today)))
            elif r in seen:
                out.append(pdoc.issue(base + ("remove", j), f"step '{r}' is already "
                                      f"{seen[r]} in this variant"))
            seen.setdefault(r, "removed")
        kept = [s for s in today if s not in var.remove]
        for j, s in enumerate(var.add):
            if s.step in kept:
                out.append(pdoc.issue(base + ("add", j, "step"), f"step '{s.step}' is already "
                                      "in this design (today's step, not removed): change it "
                                      "with replace, or remove it first"))
            elif s.step in [a.step for a in var.add[:j]]:
                out.append(pdoc.issue(base + ("add", j, "step"), f"step '{s.step}' is added "
                                      "twice"))
        if len(out) > before:
            broken.add(w)
    # each well-formed variant's design is checked too, so every problem shows in one pass
    for d in designs(p)[1:]:
        if d.variant not in broken:
            out += _design_steps(p, d, pdoc)
    return out


def _design_steps(p: Pathway, d: Design, pdoc: Document) -> list[Issue]:
    """Section 2.1's step rules within one variant's design, for the steps the variant
    wrote (changed or added) and the kept steps whose ``avoids`` it broke by a removal."""
    out: list[Issue] = []
    by_id = {s.step: s for s in d.steps}
    var = p.variants[d.variant]
    for s, where in zip(d.steps, d.where):
        own = where[0] == "variants"
        if own:
            for g in s.max_share:
                if g not in s.settings:
                    out.append(pdoc.issue(where + ("max_share",), f"'{g}' is not among the "
                                          "settings of this step in this design"
                                          + suggest(g, s.settings)))
            if len(set(s.settings)) != len(s.settings):
                out.append(pdoc.issue(where + ("settings",), "a setting is listed twice"))
            if s.avoids and not s.optional:
                out.append(pdoc.issue(where + ("avoids",), "only an optional step "
                                      "(per_patient: {min, max}) can avoid demand"))
        for t in s.avoids:
            target = by_id.get(t)
            if target is None:
                here = (where + ("avoids", t)) if own else ("variants", d.variant, "remove",
                                                           var.remove.index(t))
                why = ("" if own else f": today's step '{s.step}' avoids it; change that "
                       f"step's avoids in this variant with replace")
                out.append(pdoc.issue(here, f"'{s.step}' avoids '{t}', which is not a step of "
                                      f"design '{d.variant}' (avoids act within a design)" + why,
                                      key=own))
            elif target.optional and (own or t in [c.step for c in var.replace]):
                out.append(pdoc.issue(where + ("avoids", t) if own else where, f"'{t}' is an "
                                      f"optional step in design '{d.variant}'; only fixed steps "
                                      "can have demand avoided", key=own))
    return out
