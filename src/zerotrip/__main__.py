"""``python -m zerotrip`` runs the CLI."""

from zerotrip.cli import main

main()
