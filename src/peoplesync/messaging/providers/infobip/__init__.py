"""Infobip's public HTTP API: request bodies (pure), the async client, webhook payloads."""
