"""Common: the bottom layer, shared by every package.

Owns error types and the API error format, money and 大写 amounts, tax IDs and other
identifiers, CSV text, request-size and logging middleware, health checks, translation
compiling, process helpers for the worker, site files, querysets compiled once
(``compiled``) and choice labels without translating every choice (``models``).
May import only Django and third-party libraries, never another package of the project.
"""
