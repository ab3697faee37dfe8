"""`python -m scheduler` runs the spotcheck command line."""

from .cli import main

main(prog_name="spotcheck")
