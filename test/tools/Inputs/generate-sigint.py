#!/usr/bin/env python3
"""Ctrl-C during a generation: generate-sigint.py LLAMA_RUN ARTIFACT [ARGS...]

Runs `LLAMA_RUN ARTIFACT ARGS...` with its stdout on a pipe of one page that
this script does not read past its first byte, so the run blocks in a write
long before it is done (its text must be larger than a page), and sends
SIGINT then: the signal always lands mid-generation. Then reads the rest and
prints the exit status and the stop reason from stderr's statistics line.
"""

import fcntl
import os
import re
import signal
import subprocess
import sys

F_SETPIPE_SZ = 1031
read_end, write_end = os.pipe()
fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
p = subprocess.Popen(sys.argv[1:], stdout=write_end, stderr=subprocess.PIPE)
os.close(write_end)
first = os.read(read_end, 1)
p.send_signal(signal.SIGINT)
rest = b""
while chunk := os.read(read_end, 65536):
    rest += chunk
stderr = p.stderr.read().decode()
status = p.wait(timeout=120)
print("read", "something" if first else "nothing", "before the signal")
print("exit status", status)
stop = re.search(r"stop: (\w+)", stderr)
print("stop reason", stop.group(1) if stop else "none: %r" % stderr)
