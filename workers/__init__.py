"""Background work: the Dramatiq broker, actors driven by the event log, and the clock."""
