"""``python -m cnnzoo.cli``: the same as the ``cnnzoo`` console script."""

from cnnzoo.cli.main import main

raise SystemExit(main())
