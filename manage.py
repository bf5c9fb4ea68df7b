#!/usr/bin/env python
"""Development shortcut; the installed ``profilesync`` command does the same."""

from profilesync.cli import main

if __name__ == "__main__":
    main()
