"""Command line: ``python -m medillama run ...`` (the pipeline; run_all.sh calls it)."""
import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: medillama run [options]   (see: medillama run --help)")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        from .runner import main as run_main

        return run_main(rest)
    print(f"unknown command {cmd!r}; commands: run", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
