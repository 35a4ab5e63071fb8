"""peoplesync: a self-hosted audience hub kept in two-way sync with Salesforce."""

__version__ = "0.1.0"
