"""Our async Salesforce client: auth, REST, query, collections, Bulk API 2.0, SOQL formatting."""
