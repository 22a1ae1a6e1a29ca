"""OGC API Features over the layer catalog: every layer a user may see is a collection."""
