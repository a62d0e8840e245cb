"""Terminals for the kernel bridge: an interactive shell on a pty, in the kernel's own sandbox.

Requests arrive on the bridge's stdin reader thread and act at once (never queued behind a running
cell); each terminal has a reader thread that sends the pty's output as frames. There are no
sockets, so a sandbox with open terminals can still be checkpointed.
"""
import base64
import fcntl
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import termios
import threading

CHANNEL = "terminal"
READ_CHUNK = 64 * 1024
EXIT_POLL_S = 0.25
# Not login shells: Debian's /etc/profile resets PATH, which would drop EXTRA_BIN below. An
# interactive bash still reads /etc/bash.bashrc (prompt, completion).
SHELLS = (["/bin/bash"], ["/bin/sh"])
# The shell runs under a small session leader that makes the pty its controlling terminal (job
# control) and turns ^C, ^\ and ^Z into signals for the foreground job, which gVisor's pty does
# not do. Popen cannot set a controlling terminal without a preexec_fn, and forking by hand is
# unsafe in this multi-threaded process.
LEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cellar_tty_leader.py")
# Commands the bridge adds for terminals, last on PATH so an image's own always win (`vim` when the
# image has only vim-tiny, which installs itself as `vi`).
EXTRA_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def terminal_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELLAR_") and k != "MPLBACKEND"}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", SHELL="/bin/bash", LANG=env.get("LANG", "C.UTF-8"),
               PATH=f"{env.get('PATH', '/usr/bin:/bin')}:{EXTRA_BIN}")
    return env


def set_size(fd, cols, rows):
    # The pty sends SIGWINCH to the foreground process group on a size change.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


# Like a Linux tty with ISIG on, these characters become signals instead of input.
SIGNAL_CHARS = {termios.VINTR: signal.SIGINT, termios.VQUIT: signal.SIGQUIT, termios.VSUSP: signal.SIGTSTP}


def split_signals(data, fd):
    """Splits input into (bytes to write, signal to send after them or None)."""
    try:
        attrs = termios.tcgetattr(fd)
    except termios.error:
        return [(data, None)]
    if not attrs[3] & termios.ISIG:
        return [(data, None)]
    special = {}
    for index, sig in SIGNAL_CHARS.items():
        char = attrs[6][index]
        code = char[0] if isinstance(char, bytes) else char
        if code:
            special[code] = sig
    parts, start = [], 0
    for i, byte in enumerate(data):
        if byte in special:
            parts.append((data[start:i], special[byte]))
            start = i + 1
    parts.append((data[start:], None))
    return parts


class Terminal:
    def __init__(self, terminal_id, cols, rows, send):
        self.id = terminal_id
        self.send = send
        self.closed = False
        # Input goes through a queue and its own thread: a shell that is not reading fills the
        # pty's buffer, and a blocked write must never stall the bridge's stdin reader.
        self.inbox = queue.Queue()
        self.master, slave = os.openpty()
        control, self.control = os.pipe()
        try:
            set_size(self.master, cols, rows)
            self.process = self._spawn(slave, control)
        except BaseException:
            os.close(self.master)
            os.close(self.control)
            raise
        finally:
            os.close(slave)
            os.close(control)
        threading.Thread(target=self._pump, name=f"cellar-terminal-{terminal_id}", daemon=True).start()
        self.feeder = threading.Thread(target=self._feed, name=f"cellar-terminal-in-{terminal_id}", daemon=True)
        self.feeder.start()

    def _spawn(self, slave, control):
        cwd = "/workspace" if os.path.isdir("/workspace") else os.path.expanduser("~")
        last_error = None
        for shell in SHELLS:
            if not os.path.exists(shell[0]):
                continue
            try:
                return subprocess.Popen([sys.executable, LEADER, str(control)] + shell, stdin=slave, stdout=slave, stderr=slave,
                                        cwd=cwd, env=terminal_env(), start_new_session=True, pass_fds=(control,))
            except OSError as e:
                last_error = e
        raise OSError(f"no shell could be started: {last_error or 'neither /bin/bash nor /bin/sh exists'}")

    def _pump(self):
        # gVisor's pty master does not report EIO once the shell's side is closed, so the end of
        # the terminal is the end of its session leader, checked between reads.
        while True:
            readable, _, _ = select.select([self.master], [], [], EXIT_POLL_S)
            if not readable and self.process.poll() is not None:
                break
            if not readable:
                continue
            try:
                data = os.read(self.master, READ_CHUNK)
            except OSError:
                data = b""  # EIO (a Linux pty whose every holder has gone)
            if not data:
                break
            self.send({"type": "output", "id": self.id, "data": base64.b64encode(data).decode("ascii")})
        code = self.process.wait()
        self.inbox.put(None)
        self.feeder.join(timeout=1)  # before closing: its fd number could otherwise be reused under it
        self._close_master()
        try:
            os.close(self.control)
        except OSError:
            pass
        self.send({"type": "exit", "id": self.id, "reason": "closed" if self.closed else f"shell exited with code {code}"})

    def _feed(self):
        while True:
            data = self.inbox.get()
            if data is None:
                return
            try:
                for chunk, sig in split_signals(data, self.master):
                    while chunk:
                        chunk = chunk[os.write(self.master, chunk):]
                    if sig is not None:
                        self._signal_foreground(sig)
            except OSError:
                return  # the pty is gone; the pump reports the exit

    def _signal_foreground(self, sig):
        os.write(self.control, bytes([sig]))

    def write(self, text):
        self.inbox.put(text.encode("utf-8", "surrogateescape"))

    def resize(self, cols, rows):
        set_size(self.master, cols, rows)

    def close(self):
        """Hangs up the shell's session, as closing a terminal window does; the pump reports it."""
        self.closed = True
        for sig in (signal.SIGHUP, signal.SIGCONT):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def _close_master(self):
        try:
            os.close(self.master)
        except OSError:
            pass


class Terminals:
    def __init__(self, write_frame, log_exception):
        self.write_frame = write_frame
        self.log_exception = log_exception
        self.open = {}
        self.lock = threading.Lock()

    def send(self, event):
        if event["type"] == "exit":
            with self.lock:
                self.open.pop(event["id"], None)
        self.write_frame({"channel": CHANNEL, **event})

    def handle(self, frame):
        """One request from the worker; a failure is reported as the terminal's exit, never raised."""
        terminal_id = str(frame.get("id", ""))
        try:
            kind = frame["type"]
            if kind == "open":
                with self.lock:
                    if terminal_id in self.open:
                        raise ValueError("a terminal with this id is already open")
                    self.open[terminal_id] = None
                try:
                    terminal = Terminal(terminal_id, int(frame["cols"]), int(frame["rows"]), self.send)
                except BaseException:
                    with self.lock:
                        self.open.pop(terminal_id, None)
                    raise
                with self.lock:
                    self.open[terminal_id] = terminal
                return
            with self.lock:
                terminal = self.open.get(terminal_id)
            if terminal is None:
                return  # already ended; its exit frame is on its way or has been sent
            if kind == "input":
                terminal.write(str(frame["data"]))
            elif kind == "resize":
                terminal.resize(int(frame["cols"]), int(frame["rows"]))
            elif kind == "close":
                terminal.close()
        except Exception as e:
            self.log_exception(f"terminal request {frame.get('type')!r}")
            if frame.get("type") == "open":
                self.write_frame({"channel": CHANNEL, "type": "exit", "id": terminal_id, "reason": f"could not open a terminal: {e}"})
