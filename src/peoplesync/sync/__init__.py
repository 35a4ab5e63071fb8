"""The sync engine: objects, mappings, pure planning, cursors, runners, transfers, status."""
