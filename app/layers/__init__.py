"""The layer catalog: one registry of every layer the portal publishes (tiles, OGC API
Features, the map's layer panel). Built-in layers live in builtin.py; later work registers
its layers the same way, with catalog.register(Layer(...))."""
