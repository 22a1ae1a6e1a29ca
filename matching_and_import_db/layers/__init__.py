"""The layer catalog: one registry of every layer the portal publishes (tiles, OGC API
Features, the map's layer panel). Built-in layers live in builtin.py; later work registers
its layers the same way, with catalog.register(Layer(...)), saying in `depends_on` which
data its tiles are drawn from (matching_and_import_db.tilecache), so that a change to that
data retires them from the tile cache; a layer without it is never cached."""
