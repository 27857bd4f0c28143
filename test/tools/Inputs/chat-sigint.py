#!/usr/bin/env python3
"""Ctrl-C at the prompt of `llama-run --chat` ends it as SIGINT does (exit
status 130): chat-sigint.py LLAMA_RUN ARTIFACT

Sends one turn, waits for its answer (with --json the line comes once the
answer is done, so the program is back at the prompt), then sends SIGINT
while it waits for the next turn. Prints the exit status.
"""

import signal
import subprocess
import sys

llama_run, artifact = sys.argv[1], sys.argv[2]
p = subprocess.Popen([llama_run, artifact, "--chat", "--json", "--quiet", "--max-new-tokens", "2"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
p.stdin.write(b"Hello\n")
p.stdin.flush()
answer = p.stdout.readline()
print("answered" if b'"turn":1' in answer else "no answer: %r" % answer)
p.send_signal(signal.SIGINT)
print("exit status", p.wait(timeout=60))
