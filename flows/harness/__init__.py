"""What drives the product from outside, as a person would: the local stack (Prefect server, runner,
SMTP sink), the HTTP client of the resume API, and the demo's scenario. Used by the demo, the tests and
the benchmarks; never by the flows themselves."""
