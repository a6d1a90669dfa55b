"""Generators of benchmark inputs (code, not data files): run them to write the files a benchmark reads."""
