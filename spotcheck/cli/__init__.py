"""The command line (`spotcheck`), a thin shell over `spotcheck.service`."""

from spotcheck.cli.main import main as main
