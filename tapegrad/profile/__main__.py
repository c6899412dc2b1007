"""python -m tapegrad.profile SCRIPT [script args] [--repeat N] [--plot FILE.png] [--json FILE]

Runs SCRIPT unchanged (its own output still shows), captures every backward pass, and reports
per graph structure: records, fused kernels, calls, median interpreted and JIT backward time,
compile seconds, speedup and the break-even number of calls. The profiler's options may come
before SCRIPT or after its arguments; put ``--`` before script arguments that look like them.
"""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback

OWN = {"--repeat": True, "--plot": True, "--json": True, "--no-progress": False}


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(profiler args, script argv): our flags are taken from anywhere unless after ``--``."""
    ours, script = [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            script += argv[i + 1:]
            break
        name = a.split("=", 1)[0]
        if name in OWN and (script or i == 0 or True):
            ours.append(a)
            if OWN[name] and "=" not in a and i + 1 < len(argv):
                ours.append(argv[i + 1])
                i += 1
        else:
            script.append(a)
        i += 1
    return ours, script


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, script_argv = split_argv(argv)
    parser = argparse.ArgumentParser(prog="python -m tapegrad.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed samples per graph structure (default 5)")
    parser.add_argument("--plot", metavar="FILE.png", help="write a bar chart (matplotlib)")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines")
    opts = parser.parse_args(ours)
    if not script_argv:
        parser.error("no script given")
    if opts.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("tapegrad.profile: --plot needs matplotlib, which is not installed: "
                  "pip install 'tapegrad[plot]'", file=sys.stderr)
            return 2
    script = script_argv[0]
    if not os.path.exists(script):
        print(f"tapegrad.profile: no such script: {script}", file=sys.stderr)
        return 2
    from .profiler import Profiler
    status = 0
    sys.argv = script_argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    with Profiler(opts.repeat, progress=not opts.no_progress) as prof:
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            status = 1
    sys.stdout.flush()
    report = prof.report()
    print()
    print(report.table())
    if status:
        print(f"tapegrad.profile: {script} stopped with an error (exit status {status}); the "
              "table shows what was captured before it", file=sys.stderr)
    if opts.json:
        report.to_json(opts.json)
        print(f"tapegrad.profile: wrote {opts.json}")
    if opts.plot and report.graphs:
        report.plot(opts.plot)
        print(f"tapegrad.profile: wrote {opts.plot}")
    return status


if __name__ == "__main__":
    sys.exit(main())
