"""The operator's view of the whole system: the admin health page, analytics without
personal data (our daily counts, optional Plausible)."""
