"""Background work: thin Dramatiq actors, the clock, and the worker and clock processes."""
