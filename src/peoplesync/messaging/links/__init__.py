"""Tracked links: URLs in a message body become short links that redirect and count clicks."""
