"""/api/geo: every catalog layer (published datasets included) as GeoJSON and CSV."""
