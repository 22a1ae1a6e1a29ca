-- Last statement of the publish transaction: what the stop tables now hold.
INSERT INTO stop_publications (run_id, pipeline, source, format, profile_version, profile,
                               counts)
VALUES (%(run_id)s, %(pipeline)s, %(source)s, %(format)s, %(profile_version)s, %(profile)s,
        %(counts)s)
RETURNING id;
