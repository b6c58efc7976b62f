"""Command line: ``medillama run ...`` (the pipeline; run_all.sh calls it), ``medillama ask "..."`` and
``medillama report --run NAME`` (the HTML report; with --markdown/--readme the results pages, from metrics.json) and
``medillama preflight [--profile P] [-p KEY VALUE]`` (what would make steps 03-05 fail, their memory and time)."""
import sys


def main(argv=None) -> int:
    if argv is None:  # a command line (`python -m medillama`, the `medillama` script), not a call from Python
        from .allocator import reexec

        reexec()  # torch's big tensors reused from the heap: in this process and every kernel it starts
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: medillama run [options] | medillama ask \"symptoms\" [options] | medillama report --run NAME "
              "[--markdown FILE] [--readme FILE] | medillama preflight [--profile P] [-p KEY VALUE]   (add --help for more)")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        from .runner import main as run_main

        return run_main(rest)
    if cmd == "ask":
        from .ask import main as ask_main

        return ask_main(rest)
    if cmd == "report":
        from .report import main as report_main

        return report_main(rest)
    if cmd == "preflight":
        from .preflight import main as preflight_main

        return preflight_main(rest)
    print(f"unknown command {cmd!r}; commands: run, ask, report, preflight", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
