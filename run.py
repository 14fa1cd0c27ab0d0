"""Plan AI compute and its energy: ``python run.py --target 250GW`` (see ``python run.py --help``)."""
import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main())
