"""Channels as data: each channel's message shapes, limits and pure validation rules."""
