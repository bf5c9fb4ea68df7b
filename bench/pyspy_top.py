#!/usr/bin/env python
"""Top lines of a py-spy profile, for docs/performance.md.

Reads the collapsed stacks that ``py-spy record --format raw`` writes (what
``bench/full_sync.py --profile DIR --profiler py-spy`` produces) and prints:

* self time: the frames the process was executing when sampled (where the CPU
  goes, C calls included as the Python line that made them);
* inclusive time of profilesync's own lines: which line of the sync each sample
  passed through, so the table reads as "this line and what it calls".

Only samples inside ``--within`` (default: ``run_sync``) count, which leaves out
interpreter and Django start-up. Usage::

    .venv/bin/python bench/pyspy_top.py DIR/sqlite-import.txt --top 15
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<where>[^()]*)\)$")


def read_stacks(path: Path, within: str) -> tuple[list[tuple[list[str], int]], int]:
    """The stacks (outermost first) that pass through ``within``, and all samples."""
    stacks = []
    total = 0
    for line in path.read_text().splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        count = int(match["count"])
        total += count
        frames = match["stack"].split(";")
        for index, frame in enumerate(frames):
            parsed = _FRAME.match(frame)
            if parsed and parsed["function"] == within:
                stacks.append((frames[index:], count))
                break
    return stacks, total


def self_time(stacks: list[tuple[list[str], int]]) -> Counter:
    counter: Counter = Counter()
    for frames, count in stacks:
        counter[frames[-1]] += count
    return counter


def own_lines(stacks: list[tuple[list[str], int]], prefix: str, hide_above: float) -> Counter:
    """Samples through each line under ``prefix``, leaving out the lines nearly every
    sample passes through (the run's outer frames say nothing about where time goes)."""
    counter: Counter = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            parsed = _FRAME.match(frame)
            if parsed and parsed["where"].startswith(prefix):
                counter[frame] += count
    samples = sum(count for _, count in stacks)
    return Counter({frame: n for frame, n in counter.items() if n <= hide_above * samples})


def print_table(title: str, counter: Counter, samples: int, top: int) -> None:
    print(title)
    for frame, count in counter.most_common(top):
        print(f"  {100 * count / samples:5.1f} %  {frame}")
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="a py-spy raw (collapsed stacks) file")
    parser.add_argument("--within", default="run_sync", help="count only samples inside this function")
    parser.add_argument("--prefix", default="profilesync/", help="whose lines the second table shows")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--hide-above", type=float, default=95.0, metavar="PERCENT",
                        help="leave out lines in more than this share of samples (default 95)")
    args = parser.parse_args(argv)
    stacks, total = read_stacks(args.profile, args.within)
    samples = sum(count for _, count in stacks)
    if not samples:
        raise SystemExit(f"no samples inside {args.within!r} in {args.profile}")
    print(f"{args.profile.name}: {samples} samples inside {args.within} ({total} in all)\n")
    print_table("self time (where the CPU was)", self_time(stacks), samples, args.top)
    print_table(f"inclusive time of {args.prefix} lines",
                own_lines(stacks, args.prefix, args.hide_above / 100), samples, args.top)


if __name__ == "__main__":
    main()
