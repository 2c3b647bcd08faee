"""Compiled templates shared by every Flask app one test process builds.

Most tests build a host site of their own, and each Flask app has its own Jinja environment,
which compiles every template it renders from source: without sharing, compiling the kit's
templates again for each test was a large share of the CPU of the tests that render pages
(about 40 % of tests/test_pages.py with tests/reliability/test_hostile_input.py).
:class:`SharedTemplateCode` is a Jinja bytecode cache in memory that hands an app the code
another app compiled from the same template file, when the source is the same (checksum) and so
is everything compiling reads from the environment: delimiters and whitespace options,
autoescaping for that template, async mode, extensions, and the very filter and test functions
(constant folding may call them). An app that differs in any of these compiles its own copy, as
before.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket


def _compiling_inputs(environment: Environment, name: str) -> tuple[Hashable, ...]:
    """What the code Jinja compiles for template ``name`` depends on, besides its source."""
    autoescape: Any = environment.autoescape
    return (
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.finalize,
        environment.is_async,
        bool(autoescape(name) if callable(autoescape) else autoescape),
        tuple(sorted((key, type(ext)) for key, ext in environment.extensions.items())),
        # The function objects themselves (held here, so no other function reuses their id).
        tuple(sorted(environment.filters.items())),
        tuple(sorted(environment.tests.items())),
    )


class SharedTemplateCode(BytecodeCache):
    """Jinja bytecode kept in memory and shared by environments that compile alike."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        # What each key was made of: keeps the functions it names alive, so no other function
        # can take their id (their repr) while the code compiled with them is kept.
        self._inputs: dict[str, tuple[Hashable, ...]] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        inputs = (name, filename, _compiling_inputs(environment, name))
        # The bucket holds the source's checksum: code compiled from other source is not used.
        bucket = Bucket(environment, repr(inputs), self.get_source_checksum(source))
        self._inputs[bucket.key] = inputs
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()
