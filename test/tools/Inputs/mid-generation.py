#!/usr/bin/env python3
"""Something happens in the middle of a generation:
mid-generation.py sigint|truncate=FILE LLAMA_RUN ARTIFACT [ARGS...]

Runs `LLAMA_RUN ARTIFACT ARGS...` with its stdout on a pipe of one page that
this script does not read past its first byte, so the run blocks in a write
long before it is done (its text must be larger than a page). Then, while
it is blocked, either sends SIGINT (Ctrl-C) or truncates FILE to 4096 bytes
(another process rewriting the artifact in place), reads the rest, and
prints the exit status, the stop reason from stderr's statistics line and
stderr's `error:` lines.
"""

import fcntl
import os
import re
import signal
import subprocess
import sys

action = sys.argv[1]
F_SETPIPE_SZ = 1031
read_end, write_end = os.pipe()
fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
p = subprocess.Popen(sys.argv[2:], stdout=write_end, stderr=subprocess.PIPE)
os.close(write_end)
first = os.read(read_end, 1)
if action == "sigint":
    p.send_signal(signal.SIGINT)
elif action.startswith("truncate="):
    os.truncate(action[len("truncate="):], 4096)
else:
    sys.exit("unknown action " + action)
while os.read(read_end, 65536):
    pass
stderr = p.stderr.read().decode()
status = p.wait(timeout=120)
print("read", "something" if first else "nothing", "before the", action.split("=")[0])
print("exit status", status)
stop = re.search(r"stop: (\w+)", stderr)
print("stop reason", stop.group(1) if stop else "none")
for line in stderr.splitlines():
    if line.startswith("error:"):
        print(line)
