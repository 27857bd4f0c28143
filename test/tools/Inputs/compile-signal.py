#!/usr/bin/env python3
"""A signal while `llamac compile` has its kernel temporaries in $TMPDIR:
compile-signal.py SIGNAL TMPDIR LLAMAC ARGS...   (SIGNAL: SIGINT, SIGTERM, SIGBUS)

Runs `LLAMAC ARGS...` with TMPDIR set, waits until a `llamac-kernels-*` file
appears there (the object file and shared object of the kernels), sends the
signal, and prints the exit status and what is left in TMPDIR.
"""

import os
import signal
import subprocess
import sys
import time

sig, tmpdir = getattr(signal, sys.argv[1]), sys.argv[2]
env = dict(os.environ, TMPDIR=tmpdir)
p = subprocess.Popen(sys.argv[3:], env=env,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
deadline = time.monotonic() + 300
while not any(n.startswith("llamac-kernels-") for n in os.listdir(tmpdir)):
    if p.poll() is not None or time.monotonic() > deadline:
        print("no temporaries seen; exit status", p.wait())
        sys.exit(1)
    time.sleep(0.001)
print("temporaries seen", flush=True)
p.send_signal(sig)
print("exit status", p.wait(timeout=120))
print("left in TMPDIR:", " ".join(sorted(os.listdir(tmpdir))) or "nothing")
