"""Workspaces: machine clients' tokens, datapoint batches, their store, map definitions."""
