"""Sandboxes: real servers we own that model outside systems. They import nothing of the core."""
