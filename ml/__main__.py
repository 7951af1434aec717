"""``python -m ml``: score localize marks or reports from JSON files, one case or a batch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

# Each sub-command lives in ml/cli/<name>.py and exposes add_arguments(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "score-localize": ("ml.cli.localize", "Score localize marks against a reference."),
    "score-report": ("ml.cli.report", "Score a findings text against a reference report."),
}


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
