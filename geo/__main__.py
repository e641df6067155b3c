"""``python -m geo``: the ``corridor`` command line."""

from .cli import main

main()
