#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the sources clang-tidy reads: the unity build's batches, each joined into one file.

clang-tidy spends most of its time on what every source includes (Boost.Asio and Beast, CLI11,
nlohmann/json, the standard library): each source alone parses and walks those headers again.
A unity build's batch (CMake's, the ones the release build compiles) shares them. But a batch
that #includes its sources makes them headers to clang-tidy: clang-analyzer runs its
path-sensitive checks only on the main file's functions, and misc-unused-using-decls and
readability-redundant-declaration look only at the main file. So each batch is written out as
one file with its sources' text in it, each after a `#line 1 "<source>"`: every line of every
source is main-file code, as it is when the source is read alone, and every finding names the
source and line it is on. The sources' own #includes, NOLINT comments and text are unchanged.

    scripts/lint_batches.py write TREE OUT
TREE: a build tree configured with CMAKE_UNITY_BUILD=ON (its compile_commands.json).
OUT: a folder; gets one .cpp per batch and a compile_commands.json with a command for each of
them and for every source compiled alone (left out of the batches). Prints how many sources
in how many files; exit 1 if a source of src/ under git is in none of them.

    scripts/lint_batches.py translate OUT < REPORT
clang-tidy's report on OUT's batches names their lines; this names the sources' lines.

    scripts/lint_batches.py self-check OUT
Joins tests/lint/batch_canary_*.cpp into one batch in OUT as `write` joins sources, runs
clang-tidy on it, and exits 1 unless it reports exactly the findings those files mark with
"lint-expect: CHECK" at their lines: proof, with this clang-tidy, that a finding in any source
of a batch is reported as it is when the source is read alone.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

UNITY_INCLUDE = re.compile(r'^#include "(?P<path>[^"]+)"$', re.MULTILINE)
BATCH_LOCATION = re.compile(r"(?P<batch>/\S*/batch_\w+\.cpp):(?P<line>\d+):")
LINE_MAP = "line_map.json"


def write_batch(batch: Path, sources: list[Path]) -> list[tuple[int, str]]:
    """Writes the batch; returns where each source starts in it: (the batch's line just
    before the source's first, the source)."""
    parts, starts, line = [], [], 0
    for source in sources:
        text = source.read_text()
        if not text.endswith("\n"):
            text += "\n"
        parts.append(f'#line 1 "{source}"\n{text}')
        starts.append((line + 1, str(source)))
        line += 1 + text.count("\n")
    batch.write_text("".join(parts))
    return starts


def translate(text: str, starts_of: dict[str, list[tuple[int, str]]]) -> str:
    """clang-tidy names the batch's file and line in its findings (not the #line's): each
    becomes the source's file and line."""
    def source_line(match: re.Match) -> str:
        starts = starts_of.get(match["batch"])
        if not starts:
            return match[0]
        line = int(match["line"])
        before, source = max((start for start in starts if start[0] < line),
                             default=starts[0])
        return f"{source}:{line - before}:"
    return BATCH_LOCATION.sub(source_line, text)


def repository_root() -> Path:
    return Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], check=True,
                               capture_output=True, text=True).stdout.strip())


def write(tree: Path, out: Path) -> int:
    root = repository_root()
    tracked = {root / name for name in subprocess.run(
        ["git", "ls-files", "src/*.cpp"], cwd=root, check=True, capture_output=True,
        text=True).stdout.split()}
    try:
        commands = json.loads((tree / "compile_commands.json").read_text())
    except (OSError, ValueError) as error:
        print(f"lint_batches: cannot read {tree}/compile_commands.json: {error}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("batch_*.cpp"):
        old.unlink()
    covered: set[Path] = set()
    entries = []
    starts_of = {}
    for entry in commands:
        file = Path(entry["directory"], entry["file"]).resolve()
        if "/Unity/unity_" in str(file):
            sources = [Path(match["path"]).resolve()
                       for match in UNITY_INCLUDE.finditer(file.read_text())]
            # Only the project's sources (not the benchmarks'); cloudtime-vm compiles the
            # libraries' sources again: a batch holding nothing new is not read a second time.
            if not any(source in tracked and source not in covered for source in sources):
                continue
            batch = out / f"batch_{len(entries):03d}.cpp"
            starts_of[str(batch)] = write_batch(batch, sources)
            covered.update(sources)
            entries.append({"directory": entry["directory"], "file": str(batch),
                            "command": entry["command"].replace(entry["file"], str(batch))})
        elif file in tracked and file not in covered:
            covered.add(file)
            entries.append(entry)
    (out / "compile_commands.json").write_text(json.dumps(entries, indent=1))
    (out / LINE_MAP).write_text(json.dumps(starts_of))
    missing = sorted(str(source.relative_to(root)) for source in tracked - covered)
    if missing:
        print("lint_batches: no compile command for " + " ".join(missing), file=sys.stderr)
        return 1
    print(f"{len(tracked)} sources in {len(entries)} files")
    return 0


EXPECT = re.compile(r"//\s*lint-expect:\s*(?P<check>\S+)")
FINDING = re.compile(r"^(?P<file>/[^:]+):(?P<line>\d+):\d+: (?:warning|error): .* "
                     r"\[(?P<check>[^\],]+)[^\]]*\]$", re.MULTILINE)


def self_check(out: Path) -> int:
    root = repository_root()
    canaries = sorted((root / "tests" / "lint").glob("batch_canary_*.cpp"))
    expected = set()
    for canary in canaries:
        for number, line in enumerate(canary.read_text().splitlines(), start=1):
            if match := EXPECT.search(line):
                expected.add((str(canary), number, match["check"]))
    out.mkdir(parents=True, exist_ok=True)
    batch = out / "batch_canary.cpp"
    starts = write_batch(batch, canaries)
    # The canaries' compile command: nothing but the language; the repository's .clang-tidy
    # applies (OUT is inside the repository).
    tidy = subprocess.run(["clang-tidy", "-quiet", str(batch), "--", "-std=c++20"],
                          capture_output=True, text=True)
    report = translate(tidy.stdout, {str(batch): starts})
    found = {(match["file"], int(match["line"]), match["check"])
             for match in FINDING.finditer(report)}
    if len(canaries) < 2 or not expected or found != expected:
        print("lint_batches: clang-tidy does not read a joined batch as each source alone",
              file=sys.stderr)
        for what, findings in (("expected, not reported", expected - found),
                               ("reported, not expected", found - expected)):
            for file, line, check in sorted(findings):
                print(f"  {what}: {file}:{line} [{check}]", file=sys.stderr)
        print(report + tidy.stderr, file=sys.stderr)
        return 1
    print(f"lint_batches: the canary batch's {len(expected)} findings reported where they are")
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "write":
        return write(Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve())
    if len(sys.argv) == 3 and sys.argv[1] == "self-check":
        return self_check(Path(sys.argv[2]).resolve())
    if len(sys.argv) == 3 and sys.argv[1] == "translate":
        try:
            starts_of = json.loads((Path(sys.argv[2]) / LINE_MAP).read_text())
        except (OSError, ValueError) as error:
            print(f"lint_batches: cannot read the batches' line map: {error}", file=sys.stderr)
            return 1
        sys.stdout.write(translate(sys.stdin.read(), starts_of))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
