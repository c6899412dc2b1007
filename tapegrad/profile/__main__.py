"""Run a script unchanged and compare tapegrad's two backward engines on it.

The script's own output still shows. Every backward pass is captured; for each graph
structure the report gives the user's source line that made its root, records, fused kernels,
calls, median interpreted and JIT backward time with their spread, compile and disk-load
seconds, a verdict (only where the difference exceeds the spread), the break-even number of
calls, what the default backend ``auto`` does with it by its cost model, a per-op table and a
recommended backend for the whole script.

The profiler's options come before SCRIPT; they are also recognised after it, among the
script's arguments, unless a ``--`` comes first. Everything after ``--`` is the script's.

examples:
  python -m tapegrad.profile train.py
  python -m tapegrad.profile --repeat 10 --trace out.json train.py --epochs 3
  python -m tapegrad.profile --plot p.png train.py -- --repeat 3   (--repeat is the script's)
"""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback



def make_parser() -> argparse.ArgumentParser:
    """The command line's parser (``--help`` prints it)."""
    parser = argparse.ArgumentParser(
        prog="python -m tapegrad.profile", description=__doc__, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", metavar="SCRIPT", help="the Python script to run")
    parser.add_argument("script_args", metavar="ARG", nargs="*",
                        help="the script's own arguments (sys.argv[1:] in it)")
    parser.add_argument("--repeat", type=_positive, default=5, metavar="N",
                        help="timed samples per graph structure (default 5)")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="write a bar chart of both engines per graph (needs matplotlib)")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument("--trace", metavar="FILE.json",
                        help="write a Chrome trace (open it in ui.perfetto.dev or "
                             "chrome://tracing)")
    parser.add_argument("--sort", choices=("self", "calls", "avg", "name"), default="self",
                        help="order of the per-op table (default: self time)")
    parser.add_argument("--rows", type=_positive, default=15, metavar="N",
                        help="rows of the per-op table (default 15)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress lines on stderr during long compiles and runs")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def split_argv(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list, list]:
    """(the profiler's arguments, the script's argv). Up to SCRIPT everything is ours (an
    unknown flag there is an error naming it); after SCRIPT our own flags are still taken, the
    rest is the script's; after ``--`` everything is the script's."""
    takes_value = {opt: action.nargs != 0 for action in parser._actions
                   for opt in action.option_strings}
    ours: list[str] = []
    script: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            script += argv[i + 1:]
            break
        name = a.split("=", 1)[0]
        if name in takes_value:
            ours.append(a)
            if takes_value[name] and "=" not in a and i + 1 < len(argv):
                ours.append(argv[i + 1])
                i += 1
        elif not script and a.startswith("-") and a != "-":
            ours.append(a)  # before the script: argparse names it as unrecognised
        else:
            script.append(a)
        i += 1
    return ours, script


def main(argv: list[str] | None = None) -> int:
    """The command line: returns the exit status (the script's, if it failed)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = make_parser()
    ours, script_argv = split_argv(parser, argv)
    opts = parser.parse_args(ours + ["--"] + script_argv if script_argv else ours)
    if opts.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("argument --plot: needs matplotlib, which is not installed: "
                         "pip install 'tapegrad[plot]'")
    script = opts.script
    if not os.path.isfile(script):
        parser.error(f"argument SCRIPT: no such file: {script}")
    from .profiler import Profiler
    status = 0
    sys.argv = [script] + opts.script_args
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
    print(report.table(sort_by=opts.sort, row_limit=opts.rows))
    if status:
        print(f"tapegrad.profile: {script} stopped with an error (exit status {status}); the "
              "table shows what was captured before it", file=sys.stderr)
    for flag, write in (("json", report.to_json), ("trace", report.to_trace)):
        path = getattr(opts, flag)
        if path:
            write(path)
            print(f"tapegrad.profile: wrote {path}")
    if opts.plot and report.graphs:
        report.plot(opts.plot)
        print(f"tapegrad.profile: wrote {opts.plot}")
    return status


if __name__ == "__main__":
    sys.exit(main())
