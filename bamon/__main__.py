"""python3 -m bamon"""

import sys

from bamon.cli.main import main

sys.exit(main())
