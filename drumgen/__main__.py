"""``python -m drumgen``: the ``drumgen`` command (:mod:`drumgen.cli`)."""

import sys

from drumgen.cli import main

sys.exit(main())
