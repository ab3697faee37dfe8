"""`python -m spotcheck` runs the spotcheck command line."""

from spotcheck.cli import main

main(prog_name="spotcheck")
