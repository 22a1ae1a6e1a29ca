"""Workspaces in the web app: machine clients' tokens, datapoint pushes, maps by API and
their public tiles, the admins' workspace management."""
