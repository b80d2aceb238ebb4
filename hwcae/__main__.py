import sys

from hwcae.cli import main

sys.exit(main())
