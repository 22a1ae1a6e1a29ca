-- How many datapoints the transaction's workspace holds (its quota counts them).
SELECT count(*) FROM workspace_datapoints
