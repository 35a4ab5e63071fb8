"""Sync profiles: an integration's steps, mappings, filters and schedules, as data."""
