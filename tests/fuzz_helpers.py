"""Mutations of real input files, for the fuzzing tests: bit flips, truncation, NUL bytes,
inserted and deleted bytes, huge fields, repeated lines, other separators, gzip layers
(nested when repeated). The same mutations serve hypothesis (which shrinks a failing list
of them to the smallest) and the upload load test (a seeded random generator)."""

from __future__ import annotations

import gzip
import random

from hypothesis import strategies as st

OPS = ("flip", "truncate", "nul", "insert", "delete", "huge_field", "repeat_line",
       "separator", "gzip")


def apply(data: bytes, ops: list[tuple[str, float, bytes]], huge: int = 200_000) -> bytes:
    """Each op is (name, where in the data as 0..1, payload)."""
    for name, where, payload in ops:
        at = int(where * len(data))
        if name == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ (1 << (len(payload) % 8))]) + data[at + 1:]
        elif name == "truncate":
            data = data[:at]
        elif name == "nul":
            data = data[:at] + b"\x00" + data[at:]
        elif name == "insert":
            data = data[:at] + payload + data[at:]
        elif name == "delete":
            data = data[:at] + data[at + len(payload) + 1:]
        elif name == "huge_field":  # a cell, attribute or metadata value of `huge` bytes
            filler = (payload[:1] or b"9") * huge
            data = data[:at] + filler + data[at:]
        elif name == "repeat_line":
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            line = data[start:end + 1 if end >= 0 else len(data)] or b"\n"
            times = max(2, huge // max(len(line), 1))
            data = data[:start] + line * times + data[start:]
        elif name == "separator":
            old, new = (b";", b","), (b",", b"\t")
            pair = (old, new)[len(payload) % 2]
            data = data.replace(*pair)
        elif name == "gzip":
            data = gzip.compress(data, compresslevel=1, mtime=0)
    return data


def mutation_lists(max_ops: int = 4):
    return st.lists(st.tuples(st.sampled_from(OPS), st.floats(0, 1),
                              st.binary(max_size=24)), min_size=1, max_size=max_ops)


def random_ops(rng: random.Random, max_ops: int = 3) -> list[tuple[str, float, bytes]]:
    return [(rng.choice(OPS), rng.random(), rng.randbytes(rng.randrange(24)))
            for _ in range(rng.randint(1, max_ops))]
