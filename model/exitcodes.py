"""Exit codes every command of ``run.py`` returns (one table, imported by all of them).

0 solved (or: compared, verified, listed); 1 the result set could not be
written (disk full, permissions; nothing partial is left); 2 bad input or
usage (nothing is written); 3 the target cannot be met or the inputs
contradict each other (a result set explains why); 4 the solver failed or hit
its time limit, or its plan failed the post-solve check; 130 interrupted.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_WRITE = 1       # the result set could not be written (OSError); the temporary folder is removed
EXIT_INPUT = 2       # bad input or usage; nothing written
EXIT_TARGET = 3      # target missed or contradictory inputs; a result set explains it
EXIT_SOLVER = 4      # solver failure, time limit, or a plan refused by the post-solve check
EXIT_INTERRUPT = 130

# ``verify``: does a re-run reproduce the recorded figures?
EXIT_MATCH = 0       # the figures match
EXIT_DIFFER = 1      # some figure differs
EXIT_CANNOT = 2      # the set cannot be re-run (not a result set, a crafted or unreadable manifest)
