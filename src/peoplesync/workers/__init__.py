"""Where work runs: the gated loops, their supervisor, and the job queue across machines."""
