"""The People store: persons, companies, attributes, links, timeline and the change log."""
