"""The scenario and pathway files as strict pydantic models (SPEC section 2).

Every model is frozen, forbids unknown keys and is strict about types (a quoted ``"12"`` is
not a number, ``true`` is not 1). Range rules live in the types below, not in code paths.
Cross-references between files (arcs, shares, names) are checked in :mod:`optimiser.checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A name: lower-case letter, then lower-case letters, digits and ``_``."""
ActivityKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
"""``pathway.step``, e.g. ``copd.spirometry``."""
QualityKey = Annotated[
    str, StringConstraints(pattern=r"^(default|[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)$")
]
FloorKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A finite number >= 0 (money, populations, rates, capacities)."""
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A finite number in [0, 1] (shares, overhead, quality scores)."""
Count = Annotated[int, Field(ge=0)]
Growth = Annotated[float, Field(gt=-1, allow_inf_nan=False)]
"""A yearly growth rate, compounding: finite and above -1 (a shrinking population is
negative)."""


class Strict(BaseModel):
    """Base of every config model: frozen, strict types, unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


# --------------------------------------------------------------------------- pathways


class Uptake(Strict):
    """Uptake range of an optional intervention, per patient per year."""

    min: NonNeg
    """Least uptake per patient (the baseline runs at this level)."""
    max: NonNeg
    """Greatest uptake per patient."""

    @model_validator(mode="after")
    def _ordered(self) -> Uptake:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


def _per_patient_kind(v: Any) -> str:
    return "range" if isinstance(v, dict) or isinstance(v, Uptake) else "fixed"


PerPatient = Annotated[
    Union[Annotated[NonNeg, Tag("fixed")], Annotated[Uptake, Tag("range")]],
    Discriminator(_per_patient_kind),
]


class Step(Strict):
    """One activity of a pathway."""

    step: Id
    """Step id, unique in its pathway."""
    per_patient: PerPatient
    """Activities per patient per year, or ``{min, max}`` for an optional intervention."""
    settings: Annotated[list[Id], Field(min_length=1)]
    """Settings where the step may be delivered (matched against providers' ``setting``)."""
    max_share: dict[Id, Fraction] = {}
    """Cap on one setting's share of this step's demand."""
    avoids: dict[Id, NonNeg] = {}
    """For an optional step: units of demand removed from each named step per unit delivered."""

    @property
    def optional(self) -> bool:
        return isinstance(self.per_patient, Uptake)


class StepChange(Strict):
    """How a redesign changes one of today's steps (SPEC section 11): the keys given replace
    the step's, the others are kept."""

    step: Id
    """Id of the step of today's design that this design changes."""
    per_patient: PerPatient | None = None
    """New activities per patient per year, or ``{min, max}`` uptake range."""
    settings: Annotated[list[Id], Field(min_length=1)] | None = None
    """New settings where the step may be delivered."""
    max_share: dict[Id, Fraction] | None = None
    """New caps on one setting's share of this step's demand."""
    avoids: dict[Id, NonNeg] | None = None
    """New demand avoided per unit delivered (steps of this design only)."""

    @model_validator(mode="after")
    def _no_nulls(self) -> StepChange:
        empty = [k for k in self.model_fields_set if getattr(self, k) is None]
        if empty:
            raise ValueError(f"{', '.join(sorted(empty))} must have a value (leave a key out "
                             "to keep today's)")
        return self


class Variant(Strict):
    """An alternative design of a pathway (SPEC section 11): today's steps, changed."""

    name: str = ""
    """Readable name (e.g. ``Integrated respiratory service``)."""
    replace: list[StepChange] = []
    """Steps whose keys change in this design."""
    add: list[Step] = []
    """Steps only this design has."""
    remove: list[Id] = []
    """Steps of today's design that this design drops."""
    adoption_cost: NonNeg = 0.0
    """One-off cost of adopting this design, per locality that adopts it."""


class Pathway(Strict):
    """A reusable pathway definition (``pathways/*.yaml``)."""

    pathway: Id
    """Pathway id; activity keys are ``pathway.step``."""
    name: str = ""
    """Readable name."""
    prevalence_per_1000: NonNeg
    """Patients per 1000 population (a locality may override it)."""
    growth: Growth = 0.0
    """Yearly growth of prevalence, compounding (multi-year plans, SPEC section 7)."""
    steps: Annotated[list[Step], Field(min_length=1)]
    """The activities of the pathway: its design in use today, called ``current``."""
    variants: dict[Id, Variant] = {}
    """Alternative designs by id (SPEC section 11); exactly one design is chosen per
    locality."""


# --------------------------------------------------------------------------- scenario


class Locality(Strict):
    """A place with a population."""

    population: NonNeg
    """Residents."""
    prevalence_per_1000: dict[Id, NonNeg] = {}
    """Per-pathway override of the pathway's prevalence."""
    population_growth: Growth = 0.0
    """Yearly growth of the population, compounding (multi-year plans, SPEC section 7)."""


class Expand(Strict):
    """Capacity bought in whole increments."""

    step: NonNeg
    """Units of capacity per increment (e.g. 1600 hours = one WTE)."""
    cost: NonNeg
    """Cost of one increment per year."""
    max_steps: Count
    """Most increments that may be bought."""


class Resource(Strict):
    """A shared, limited resource such as staff hours."""

    capacity: NonNeg
    """Units per year available now (whole heads when ``whole``)."""
    expand: Expand | None = None
    """Optional: buy more capacity in whole increments."""
    whole: bool = False
    """Counted in whole heads per provider and activity (SPEC section 11)."""
    cost: NonNeg = 0.0
    """Cost per unit used (per head when ``whole``), outside every overhead."""


class Unit(Strict):
    """Capacity of one make activity bought in whole units: beds, clinics (SPEC section 11)."""

    size: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """Activities one unit delivers per year."""
    cost: NonNeg = 0.0
    """Cost of one unit per year (under the provider's overhead)."""
    uses: dict[Id, NonNeg] = {}
    """Resource units each unit uses (on top of the provider's ``uses`` per activity)."""


def _serves_text(v: Any) -> Any:
    """Text other than ``all`` gets one clear message rather than one per union member."""
    if isinstance(v, list) and not v:
        raise ValueError("must not be empty")
    if isinstance(v, str) and v != "all":
        from .validate import suggest

        raise ValueError(f"must be 'all' or a list of localities, got text '{v}'"
                         + suggest(v, ["all"]))
    return v


Serves = Annotated[
    Literal["all"] | Annotated[list[Id], Field(min_length=1)], BeforeValidator(_serves_text)
]


class _ProviderBase(Strict):
    setting: Id
    """Setting of care (matched against steps' ``settings``)."""
    serves: Serves = "all"
    """Localities served: ``all`` or a list."""
    quality: dict[QualityKey, Fraction] = {}
    """Quality score per activity, with ``default`` for the rest."""
    current_share: dict[ActivityKey, Fraction] = {}
    """Today's share of each activity's demand in every locality served."""
    uses: dict[ActivityKey, dict[Id, NonNeg]] = {}
    """Resource units used per activity delivered."""


class BuyProvider(_ProviderBase):
    """An external provider whose activities are bought at a price."""

    mode: Literal["buy"]
    """``buy``: purchased from this provider."""
    prices: dict[ActivityKey, NonNeg] = {}
    """Price per activity."""
    block_contract: NonNeg = 0.0
    """Take-or-pay floor on what this provider is paid per year."""


class MakeProvider(_ProviderBase):
    """A service the commissioner runs itself."""

    mode: Literal["make"]
    """``make``: run in-house."""
    costs: dict[ActivityKey, NonNeg] = {}
    """Own cost per activity."""
    fixed_cost: NonNeg = 0.0
    """Cost per year if it delivers anything at all."""
    min_volume: NonNeg = 0.0
    """If it runs, at least this many activities in total."""
    overhead: Fraction = 0.0
    """Management and IT, as a fraction on top of its own costs."""
    setup_cost: NonNeg = 0.0
    """One-off cost in the year it starts (not paid when it runs today)."""
    units: dict[ActivityKey, Unit] = {}
    """Activities whose capacity comes in whole units (SPEC section 11); each needs a
    ``costs`` entry (0 when everything is paid per unit)."""


def _mode(v: Any) -> str | None:
    mode = v.get("mode") if isinstance(v, dict) else getattr(v, "mode", None)
    return mode if mode in ("buy", "make") else None


Provider = Annotated[
    Union[Annotated[BuyProvider, Tag("buy")], Annotated[MakeProvider, Tag("make")]],
    Discriminator(
        _mode,
        custom_error_type="mode",
        custom_error_message="mode must be 'buy' or 'make'",
    ),
]


class Constraints(Strict):
    """Limits the plan must respect."""

    budget: NonNeg | Annotated[list[NonNeg], Field(min_length=1)] | None = None
    """Cap on total cost per year: one number for every year, or a list of one per year of
    the horizon."""
    min_quality: dict[FloorKey, Fraction] = {}
    """Quality floor per pathway, with ``default`` for the rest."""
    max_shift: Fraction | None = None
    """Pace of change: each arc keeps at least (1 - max_shift) of today's share (and, in a
    multi-year plan, of last year's volume, grown with demand)."""
    carry_over: bool = False
    """Unspent budget moves to the next year (multi-year plans, SPEC section 7)."""
    max_redesigns: Count | None = None
    """Most (locality, pathway) pairs that may leave today's design (SPEC section 11)."""


class Solve(Strict):
    """How to solve."""

    mode: Literal["lp", "milp", "cp"] = "milp"
    """``lp`` (continuous, shadow prices), ``milp`` (default) or ``cp``."""
    backend: Id = "highs"
    """Solver backend name."""
    time_limit: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """Seconds the solver may run."""
    mip_gap: Fraction = 1e-6
    """Relative optimality gap accepted in ``milp`` and ``cp``."""
    threads: Annotated[int, Field(ge=1, le=64)] | None = None
    """Solver threads (CP-SAT workers); default: the solver's choice, one CP-SAT worker."""
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    """Random seed, fixed so that the same inputs give the same plan."""
    decompose: Literal["auto", "off", "on"] = "auto"
    """Solve independent blocks (localities that share no provider, resource, budget or
    block contract) separately, in parallel processes, and merge: ``auto`` (default) when
    the model is large (20,000+ variables) and splits into two or more blocks, ``on``
    whenever it splits, ``off`` never. The optimum is the same either way (extension of
    the SPEC)."""


class Horizon(Strict):
    """The years a plan covers (SPEC section 7); every year is planned at once."""

    start: Annotated[int, Field(ge=1900, le=2999)]
    """Calendar year of the first year (``year`` in the outputs is ``start + t``)."""
    years: Annotated[int, Field(ge=1, le=50)] = 1
    """Number of years planned."""
    discount_rate: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    """Yearly rate at which later years' spending is discounted in the objective."""


TablePath = Annotated[str, StringConstraints(min_length=1)]


class Tables(Strict):
    """Bulk numbers from CSV or Parquet files (SPEC section 2.3), paths relative to the config.

    A table row means exactly what the same entry written in YAML would mean; an empty cell
    means "not given". The columns are checked in :mod:`optimiser.tables`.
    """

    localities: TablePath | None = None
    """``locality, population``: declares localities."""
    prevalence: TablePath | None = None
    """``locality, pathway, prevalence_per_1000``: per-locality prevalence overrides."""
    offers: TablePath | None = None
    """``provider, activity`` then any of ``price, cost, quality, current_share``."""
    uses: TablePath | None = None
    """``provider, activity, resource, amount``: resource units per activity."""
    resources: TablePath | None = None
    """``resource, capacity[, expand_step, expand_cost, expand_max_steps]``: declares resources."""


class ScenarioConfig(Strict):
    """A scenario config (``configs/*.yaml``)."""

    scenario: Annotated[str, StringConstraints(min_length=1)]
    """Readable scenario name (also names the default output folder)."""
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "GBP"
    """ISO 4217 currency code of every money amount."""
    pathways: Annotated[list[str], Field(min_length=1)]
    """Pathway files, relative to this file."""
    localities: dict[Id, Locality] = {}
    """Localities and their populations."""
    resources: dict[Id, Resource] = {}
    """Shared resources."""
    providers: Annotated[dict[Id, Provider], Field(min_length=1)]
    """Providers, buy or make."""
    tables: Tables | None = None
    """Optional CSV/Parquet tables holding bulk numbers (SPEC section 2.3)."""
    horizon: Horizon | None = None
    """Plan several years at once (SPEC section 7); without it, one year."""
    constraints: Constraints = Constraints()
    """Budget, quality floors and pace of change."""
    objective: Literal["min_cost"] = "min_cost"
    """What to optimise."""
    solve: Solve = Solve()
    """Solver options (the command line may override them)."""


MODELS_BY_NAME = {m.__name__: m for m in (ScenarioConfig, Pathway, BuyProvider, MakeProvider)}
