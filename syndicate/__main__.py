"""`python -m syndicate` is the `syndicate` command."""

from syndicate.cli import main

main()
