"""Pure domain code for implanting an SIAE in a prison: no Prefect import allowed here."""
