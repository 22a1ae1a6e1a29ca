"""Prometheus metrics of the web processes: /metrics.

gunicorn runs several worker processes; prometheus_client's multiprocess mode has each
write its samples to files in PROMETHEUS_MULTIPROC_DIR (set by deploy/gunicorn.conf.py,
a fresh directory at every start), and /metrics answers the sum over all of them,
whichever worker is asked. Without that variable (the flask test client, `flask run`) the
process's own registry is served.

What the database knows (pipeline runs, the ride queue, published datasets) is read when
/metrics is scraped (app/metrics/database.py), so it is the same from every process.
"""
