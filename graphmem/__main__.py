"""``python -m graphmem`` and the ``graphmem`` console script.

The command's modules are imported here, inside a guard: a Ctrl-C while they load (the first
half second) ends the command with "interrupted" and exit 130, as later, not with a traceback
of the import. (The package itself loads its public names lazily, so importing this module
costs nothing.)
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the ``graphmem`` command (``graphmem.cli.main``)."""
    try:
        from graphmem.cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
