"""Journey Builder's calls to peoplesync's activities: verify, read, enqueue, answer fast."""
