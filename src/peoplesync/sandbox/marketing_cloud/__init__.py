"""A Marketing Cloud sandbox: token, data extensions, rows and API events, with fault knobs."""
