-- For this transaction only (see rides.store.roads_near).
SET LOCAL jit = off;
