"""Message providers: one folder each, every one with the same shape."""
