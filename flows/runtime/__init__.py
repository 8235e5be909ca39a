"""Everything that starts or tunes Prefect: its server, the runner, the forkserver, the wake-up, and the
patches on Prefect 3.9 internals they need (see README.md here)."""
