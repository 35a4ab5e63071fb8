"""Outbound sync: People changes planned and pushed to Salesforce."""
