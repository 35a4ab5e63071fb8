"""Where work runs: one gated loop with typed outcomes, the passes it runs, their supervisor,
and the job queue that spreads them over machines."""
