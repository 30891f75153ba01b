import sys

from incidentbot.entrypoints.cli import main

sys.exit(main())
