"""Everything that starts or tunes Prefect: its server, the runner, the forkserver, the wake-up, the
suspension observer, and the patches on Prefect 3.8 internals they need (see README.md here)."""
