"""`python -m ops <command>`: parses the arguments, reads the settings, runs the command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping, Sequence

from ops.arguments import FAILED, USAGE, UsageError
from ops.parser import build_parser
from ops.render import clip
from shared import observability
from shared.domain.errors import NotConfigured
from shared.observability import mask
from shared.ports import StorageUnavailable
from shared.settings import LocalSettingsError, SettingsError, local_settings_environment


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        env = local_settings_environment(args.settings)
        observability.install(logging.WARNING, env)  # no secret in any log line or error printed
        command: Callable[[argparse.Namespace, Mapping[str, str]], int] = args.run
        return command(args, env)
    except (UsageError, LocalSettingsError) as error:
        print(mask(f"error: {error}"), file=sys.stderr)
        return USAGE
    except (SettingsError, NotConfigured) as error:
        print(mask(f"error: {error} (settings come from the environment or {args.settings})"), file=sys.stderr)
        return USAGE
    except StorageUnavailable as error:
        print(mask(f"error: storage is unreachable: {error}"), file=sys.stderr)
        return FAILED
    except Exception as error:
        if args.debug:
            raise
        print(mask(f"error: {type(error).__name__}: {clip(error, 300)}"), file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
