"""Builds the optional native loops (spotcheck/scheduler/_native.c: SHA-256 against OpenSSL's
libcrypto, and shortest paths for the optimality proof).

Everything else is declared in pyproject.toml. Where no C compiler or OpenSSL headers are
available the build is skipped and spotcheck uses hashlib instead, with the same results.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("spotcheck.scheduler._native", ["spotcheck/scheduler/_native.c"],
                             libraries=["crypto"], optional=True)])
