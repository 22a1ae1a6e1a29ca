"""Domain logic, free of Flask: readers, loaders, matching, pipeline phases.

Everything here takes plain data, a DB-API connection or a Redis client, and returns
plain results, so it can be tested and benchmarked alone.
"""
