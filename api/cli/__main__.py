"""`python -m api.cli`: the same as the `onemap` command."""

from api.cli import main

main()
