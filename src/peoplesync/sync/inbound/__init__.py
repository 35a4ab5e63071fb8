"""Inbound sync: Salesforce records read, planned and applied to People."""
