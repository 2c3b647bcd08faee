"""Re-check mutmut's survivors, each in a fresh Python process, and print the scores.

mutmut 3 imports the package once and forks a child per mutant, so a mutant in code that runs
at import time never reaches the tests: the fields' and ``Steps``' ``__init__`` (called while
the schema classes are built), the schemas built at import (``_ENVELOPE_SCHEMA``), and whatever
a ``functools.lru_cache`` remembered before the fork (``offer_schema``, the status words, the
credit windows). mutmut reports such mutants as survivors, or as "no tests" when no test ran
the function after the import.

This script runs the test files once per such mutant in a new interpreter, with
``MUTANT_UNDER_TEST`` set before anything is imported, so the mutant is live from the first
line of the package. It works on mutmut's own copy (``mutants/``, where every mutated function
is a trampoline that picks its variant from that variable), so nothing in the checkout changes.
Before the mutants it checks the setup both ways: the tests pass with no mutant, and fail with
mutmut's ``fail`` switch (proof that the trampolines are the code under test).

Run it from the project root after ``mutmut run`` (it needs ``mutants/`` and its ``.meta``
files)::

    nice -n 19 .venv/bin/mutmut run --max-children 1 "revu_widgets.schemas.fields.*"
    nice -n 19 .venv/bin/python tools/mutmut_fresh.py "revu_widgets.schemas.fields.*"

Arguments are ``fnmatch`` patterns over mutant names (default: all); the mutants of
``schemas/__init__.py`` are named ``revu_widgets.schemas.x_*``. Only the mutants mutmut left as
survived or "no tests" are run again. ``--tests`` replaces the test files (default: the
``pytest_add_cli_args_test_selection`` of ``[tool.mutmut]``, the files mutmut runs).

The mutants judged equivalent (no test can tell them from the code) are named, each with its
reason, under "Equivalent mutants" in ``CONTRIBUTING.md``. The script reads their names from
there (``--equivalents``), leaves them out of the score, and says when one of them was killed
after all (then it was not equivalent) or is no longer a mutant. Results are kept in
``mutants/fresh-recheck.json``, keyed by mutant name and a hash of the mutated file and the test
files, so a stale result is not reused.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MUTANTS = Path("mutants")
RESULTS = MUTANTS / "fresh-recheck.json"
# mutmut's exit codes for a mutant no test caught: 0 survived, 5 and 33 "no tests".
UNDETECTED = frozenset({0, 5, 33})
# pytest's exit codes that catch a mutant in a fresh process: a test failed (1), the test files
# could not be collected with the mutant in place (2), pytest itself broke (3), or the run went
# past TIMEOUT_SECONDS (-1). 4 and 5 (bad arguments, no tests) are a broken setup, never a kill.
CAUGHT = frozenset({1, 2, 3, -1})
MUTANT_NAME = re.compile(r"revu_widgets(?:\.\w+)*\.x[\wǁ]*__mutmut_\d+")
TIMEOUT_SECONDS = 300
EQUIVALENTS_HEADING = "### Equivalent mutants"


@dataclass
class Score:
    """One mutated file's mutants, by how they ended."""

    path: str
    total: int = 0
    equivalent: int = 0
    by_mutmut: int = 0
    by_fresh_process: int = 0
    surviving: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return self.by_mutmut + self.by_fresh_process

    @property
    def percent(self) -> float:
        return 100 * self.killed / max(1, self.total - self.equivalent)


def mutmut_config() -> dict[str, object]:
    with open("pyproject.toml", "rb") as handle:
        config: dict[str, object] = tomllib.load(handle)["tool"]["mutmut"]
    return config


def run_tests(command: list[str], mutant: str | None) -> tuple[int, float]:
    """pytest's exit code (-1 on a timeout) and its seconds, in a new interpreter in mutants/."""
    env = {key: value for key, value in os.environ.items() if key != "MUTANT_UNDER_TEST"}
    # The mutated copy is imported, never the checkout (an editable install is found last).
    env["PYTHONPATH"] = str(MUTANTS.resolve())
    if mutant is not None:
        env["MUTANT_UNDER_TEST"] = mutant
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=MUTANTS,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - started
    return done.returncode, time.monotonic() - started


def equivalents_section(path: Path) -> str:
    """The part of ``path`` under its "Equivalent mutants" heading (the whole file if none)."""
    text = path.read_text()
    _, heading, section = text.partition(EQUIVALENTS_HEADING)
    if not heading:
        return text
    following = re.search(r"^#{1,3} ", section, re.MULTILINE)
    return section[: following.start()] if following else section


def digest(paths: list[Path]) -> str:
    hashed = hashlib.sha256()
    for path in paths:
        hashed.update(path.read_bytes())
    return hashed.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", default=["*"], help="fnmatch patterns of mutants")
    parser.add_argument("--tests", nargs="+", help="test files to run (default: mutmut's)")
    parser.add_argument(
        "--equivalents",
        default="CONTRIBUTING.md",
        help="file naming the equivalent mutants (default: CONTRIBUTING.md)",
    )
    args = parser.parse_args()

    metas = sorted(MUTANTS.rglob("*.py.meta"))
    if not metas:
        print("No mutants/ here: run `mutmut run` first.", file=sys.stderr)
        return 2
    config = mutmut_config()
    tests = args.tests or config["pytest_add_cli_args_test_selection"]
    extra = config.get("pytest_add_cli_args", [])
    assert isinstance(tests, list)
    assert isinstance(extra, list)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "--tb=no", "-p", "no:randomly"]
    command += [*extra, *tests]
    equivalents = set(MUTANT_NAME.findall(equivalents_section(Path(args.equivalents))))
    tests_digest = digest([MUTANTS / name for name in tests if (MUTANTS / name).is_file()])

    code, seconds = run_tests(command, None)
    if code != 0:
        print(f"The tests fail with no mutant (exit {code}): fix that first.", file=sys.stderr)
        return 2
    code, _ = run_tests(command, "fail")
    if code == 0:
        print("The tests pass with every trampoline failing: mutants/ is not what is imported.")
        return 2
    print(f"Setup checked: the clean run passes ({seconds:.1f} s), a forced failure fails.")

    saved: dict[str, dict[str, object]] = (
        json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    )
    scores: list[Score] = []
    seen: set[str] = set()
    warnings: list[str] = []
    for meta in metas:
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        chosen = {
            name: status
            for name, status in sorted(codes.items())
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in args.patterns)
        }
        if not chosen:
            continue
        score = Score(str(meta.relative_to(MUTANTS))[: -len(".meta")], total=len(chosen))
        key = digest([meta.with_suffix("")]) + tests_digest
        for name, status in chosen.items():
            seen.add(name)
            if status is None:
                score.not_run.append(name)
                continue
            if status not in UNDETECTED:
                score.by_mutmut += 1
                if name in equivalents:
                    warnings.append(f"{name} is named equivalent but mutmut killed it")
                continue
            earlier = saved.get(name)
            if earlier is not None and earlier["key"] == key:
                fresh_code = int(str(earlier["exit"]))
            else:
                fresh_code, seconds = run_tests(command, name)
                saved[name] = {"key": key, "exit": fresh_code, "mutmut_exit": status}
                RESULTS.write_text(json.dumps(saved, indent=1, sort_keys=True))
                verdict = "killed" if fresh_code in CAUGHT else "survived"
                print(f"  {verdict:8} {name} (exit {fresh_code}, {seconds:.1f} s)", flush=True)
            if fresh_code not in {0, *CAUGHT}:
                warnings.append(f"{name}: pytest exited with {fresh_code}, not counted as killed")
            if fresh_code in CAUGHT:
                score.by_fresh_process += 1
                if name in equivalents:
                    warnings.append(f"{name} is named equivalent but a fresh process killed it")
            elif name in equivalents:
                score.equivalent += 1
            else:
                score.surviving.append(name)
        scores.append(score)
    for name in sorted(equivalents - seen):
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in args.patterns):
            warnings.append(f"{name} is named equivalent but is not a mutant any more")

    print()
    header = f"{'file':34} {'mutants':>7} {'equiv.':>6} {'mutmut':>6} {'fresh':>5} {'killed':>6}"
    print(header + "  score (killed / non-equivalent)")
    for s in scores:
        print(
            f"{s.path:34} {s.total:7} {s.equivalent:6} {s.by_mutmut:6} {s.by_fresh_process:5} "
            f"{s.killed:6}  {s.killed} / {s.total - s.equivalent} = {s.percent:.1f} %"
        )
    if len(scores) > 1:
        total = Score("all of the above")
        for s in scores:
            total.total += s.total
            total.equivalent += s.equivalent
            total.by_mutmut += s.by_mutmut
            total.by_fresh_process += s.by_fresh_process
        print(
            f"{total.path:34} {total.total:7} {total.equivalent:6} {total.by_mutmut:6} "
            f"{total.by_fresh_process:5} {total.killed:6}  "
            f"{total.killed} / {total.total - total.equivalent} = {total.percent:.1f} %"
        )
    for s in scores:
        for title, names in (("surviving", s.surviving), ("not run by mutmut yet", s.not_run)):
            if names:
                print(f"\n{s.path}, {title}:")
                print("\n".join(f"  {name}" for name in names))
    for warning in warnings:
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
