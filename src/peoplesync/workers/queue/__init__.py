"""Workers on procrastinate: an integration's passes as queue jobs any number of
``peoplesync worker`` processes (on any number of machines) share through PostgreSQL."""
