"""The map as admins arrange it: groups, layer order and presentation, basemap, stored as
versions with who and when, undoable, exported and imported as YAML. Plain data and a
DB-API connection; the catalog's facts come from the caller (app/maps/arranged.py)."""
