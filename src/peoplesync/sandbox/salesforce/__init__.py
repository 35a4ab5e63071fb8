"""A local Salesforce org: OAuth, REST, SOQL, Bulk API and Change Data Capture on loopback HTTPS."""
