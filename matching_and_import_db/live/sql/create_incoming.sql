-- a batch's rows land here by COPY, then merge into the time series (a redelivered
-- message's rows are dropped by the primary keys there); emptied at every commit
CREATE TEMP TABLE IF NOT EXISTS incoming_measurements
    (LIKE sensor_measurements INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS incoming_signals
    (LIKE sensor_signals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
