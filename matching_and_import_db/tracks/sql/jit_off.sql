-- For this transaction only (see tracks.store.roads_near).
SET LOCAL jit = off;
