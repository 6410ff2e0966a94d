"""`python -m lodge ...`: see lodge/cli.py."""
import sys

from .cli import main

sys.exit(main())
