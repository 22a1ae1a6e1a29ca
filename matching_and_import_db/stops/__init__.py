"""Public transport stops: registry readers and matching with OpenStreetMap, pure functions."""
