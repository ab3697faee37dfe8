"""Builds the optional native SHA-256 loops (scheduler/_hashing.c) against OpenSSL's libcrypto.

Everything else is declared in pyproject.toml. Where no C compiler or OpenSSL headers are
available the build is skipped and spotcheck uses hashlib instead, with the same results.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("scheduler._hashing", ["scheduler/_hashing.c"],
                             libraries=["crypto"], optional=True)])
