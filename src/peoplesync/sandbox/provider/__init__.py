"""A local messaging provider network that speaks Infobip's public HTTP API.

It imports nothing of peoplesync's core: its idea of the wire format is its own, so a
misunderstanding in the product's adapter is caught here instead of copied.
"""
