"""The messaging engine: channels and their rules, providers, sends and reports.

It imports nothing of ``peoplesync.salesforce`` or ``peoplesync.sync``.
"""
