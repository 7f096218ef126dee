"""The encoder child process's entry point: ``python -m storyline.run.child READ_FD WRITE_FD``.

A module of its own, imported by nothing, so that running it does not execute a module the
package has already imported (:func:`storyline.run.workers.serve` does the work).
"""

import sys

from .workers import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
