"""Transfers on demand: bulk transfers with their own filters, previews, resyncs."""
