"""Prefect tasks: each wraps one side effect of the domain package, idempotent so a resumed flow can replay it."""
