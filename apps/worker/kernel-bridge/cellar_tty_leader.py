#!/usr/bin/env python3
"""Session leader of one terminal: `cellar_tty_leader.py CONTROL_FD SHELL [ARGS...]`.

Started by the bridge on the pty (a new session), it makes the pty its controlling terminal, runs
the shell under it, and sends the terminal's foreground process group each signal the bridge
writes to CONTROL_FD (one byte per signal). gVisor's pty does not turn ^C, ^\\ or ^Z into signals
itself, and only a process of the terminal's own session may ask which group is in the foreground.
"""
import fcntl
import os
import signal
import subprocess
import sys
import termios
import threading

NAMES = {signal.SIGINT: b"^C", signal.SIGQUIT: b"^\\", signal.SIGTSTP: b"^Z"}


def deliver(control_fd):
    while True:
        data = os.read(control_fd, 64)
        if not data:
            return
        for sig in data:
            try:
                lflag = termios.tcgetattr(0)[3]
                if lflag & termios.ECHO and lflag & termios.ECHOCTL and sig in NAMES:
                    os.write(1, NAMES[sig])
                os.killpg(os.tcgetpgrp(0), sig)
            except OSError:
                pass  # the group ended meanwhile


def main():
    control_fd, argv = int(sys.argv[1]), sys.argv[2:]
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # The shell starts before this process ignores anything: ignored signals would be inherited.
    shell = subprocess.Popen(argv)
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)

    def hang_up(*_):
        # Closing the terminal hangs up its shell, which hangs up its jobs, as a real tty would.
        try:
            os.killpg(os.getpgid(shell.pid), signal.SIGHUP)
        except OSError:
            pass

    signal.signal(signal.SIGHUP, hang_up)
    threading.Thread(target=deliver, args=(control_fd,), daemon=True).start()
    code = shell.wait()
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
