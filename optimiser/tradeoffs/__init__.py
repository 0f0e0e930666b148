"""Trade-offs around the optimum (SPEC section 8): the cost against quality frontier and
near-optimal alternatives. Each lives in its own module; nothing is imported here."""
