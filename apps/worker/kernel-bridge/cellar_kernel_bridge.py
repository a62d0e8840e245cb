#!/usr/bin/env python3
"""Cellar kernel bridge: runs inside the sandbox as its only process.

Drives an IPython kernel in this process (ipykernel.inprocess) and speaks Jupyter messages with
the worker over stdin/stdout, each framed as a 4-byte big-endian length + UTF-8 JSON. There are
no sockets anywhere, which is what lets gVisor checkpoint and restore the whole sandbox.
"""
import os
import sys

# Before anything else can print: frames get a private copy of the real stdout, and fd 1 now
# points at stderr, so a stray C-level write (a library's printf, a child process) lands in the
# worker's log instead of corrupting the frame stream.
FRAME_FD = os.dup(1)
os.dup2(2, 1)
LOG = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")

import base64  # noqa: E402
import collections  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import queue  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from cellar_terminals import CHANNEL as TERMINAL_CHANNEL, Terminals  # noqa: E402

# matplotlib_inline registers its end-of-cell figure display when it is the active backend, so
# naming it here gives inline plots without importing matplotlib at boot.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
PREBUILT_MPL_CACHE = "/etc/cellar/matplotlib"
# Set by the worker for a boot that will become a warm snapshot (see "Warm snapshots" in README).
SNAPSHOT_BOOT = os.environ.get("CELLAR_SNAPSHOT_BOOT") == "1"
SANDBOX_UID = SANDBOX_GID = 1000
WORKSPACE = "/workspace"
# The bridge's own requests that run on the kernel's thread, between cells (not as cells: they
# leave the history and the execution count alone).
STATE_REQUESTS = ("cellar_state_export_request", "cellar_state_import_request", "cellar_state_materialise_request")
# Shell messages that run the user's code: a cell, and the comm handlers a cell registered (a
# widget's callbacks). An interrupt reaches the kernel's thread only while one of these runs.
RUNS_USER_CODE = ("execute_request", "comm_open", "comm_msg", "comm_close")
# ipykernel's debugger support imports debugpy (slow to import, and it listens on TCP when a
# debug session starts, which would block checkpoints). Hiding it turns the debugger off.
sys.modules["debugpy"] = None

logging.basicConfig(stream=LOG, level=logging.WARNING, format="[kernel-bridge] %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("cellar.bridge")


def say(text):
    """Logs to the worker; never raises, since the worker may already be gone."""
    try:
        LOG.write(f"[kernel-bridge] {text}\n")
    except Exception:
        pass


def log_exception(where):
    say(f"error in {where}:\n{traceback.format_exc()}")


def seed_matplotlib_cache():
    """$HOME is a fresh tmpfs per sandbox; copying the image's prebuilt font list saves matplotlib
    seconds of font scanning on the first plot."""
    if not os.path.isdir(PREBUILT_MPL_CACHE) or os.environ.get("MPLCONFIGDIR"):
        return
    target = os.path.join(os.path.expanduser("~"), ".cache", "matplotlib")
    try:
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(PREBUILT_MPL_CACHE):
            dest = os.path.join(target, name)
            if name.startswith("fontlist") and not os.path.exists(dest):
                shutil.copyfile(os.path.join(PREBUILT_MPL_CACHE, name), dest)
    except OSError as e:
        log.warning("could not seed matplotlib cache: %s", e)


# ---- warm snapshots -----------------------------------------------------------------------------

def reseed(entropy):
    """A restored snapshot would repeat the snapshotting boot's random streams in every session:
    reseed every generator that was seeded once at import time."""
    seed = hashlib.sha512(entropy + os.urandom(32)).digest()
    import random

    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed([int.from_bytes(seed[i:i + 4], "big") for i in range(0, 32, 4)])
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile._name_sequence = None  # its own Random, created on first use


def chown_tree(top, keep_top):
    """Hands what the root-run snapshot boot wrote (IPython's history database, matplotlib's
    cache) to the sandbox user."""
    for dirpath, dirnames, filenames in os.walk(top):
        names = [os.path.join(dirpath, n) for n in dirnames + filenames]
        if dirpath != top or not keep_top:
            names.append(dirpath)
        for name in names:
            try:
                if os.lstat(name).st_uid == 0:
                    os.lchown(name, SANDBOX_UID, SANDBOX_GID)
            except OSError as e:
                log.warning("could not chown %s: %s", name, e)


def become_session(hostname, entropy):
    """Runs once in a restored snapshot, before any user code: takes on this session's hostname,
    fresh random state, and drops to the sandbox user for good."""
    if os.getuid() == 0:
        socket.sethostname(hostname)
        chown_tree(os.path.expanduser("~"), keep_top=False)
        for top in ("/tmp", "/dev/shm"):
            chown_tree(top, keep_top=True)
        os.setgroups([])
        os.setgid(SANDBOX_GID)
        os.setuid(SANDBOX_UID)  # glibc applies it to every thread; no way back to root
    os.environ.pop("CELLAR_SNAPSHOT_BOOT", None)
    reseed(entropy)


# ---- framing ------------------------------------------------------------------------------------

def _finite(value):
    """JSON has no NaN/Infinity and the worker's JSON.parse rejects them: send null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class FrameWriter:
    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def write(self, message):
        from jupyter_client.jsonutil import json_default

        try:
            body = json.dumps(message, default=json_default, ensure_ascii=False, allow_nan=False)
        except ValueError:
            body = json.dumps(_finite(message), default=json_default, ensure_ascii=False, allow_nan=False)
        data = body.encode("utf-8")
        view = memoryview(struct.pack(">I", len(data)) + data)
        with self.lock:
            try:
                while view:
                    view = view[os.write(self.fd, view):]
            except BrokenPipeError:
                say("worker closed the frame pipe; exiting")
                os._exit(0)


def read_exact(fd, n):
    chunks, need = [], n
    while need:
        chunk = os.read(fd, min(need, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


def read_frames(fd):
    while True:
        head = read_exact(fd, 4)
        if head is None:
            return
        (length,) = struct.unpack(">I", head)
        body = read_exact(fd, length)
        if body is None:
            return
        yield body


# ---- the bridge ---------------------------------------------------------------------------------

def _buffer_bytes(b):
    return b.bytes if hasattr(b, "bytes") else bytes(b)


class KernelBridge:
    def __init__(self, writer):
        from ipykernel.inprocess.channels import InProcessChannel
        from ipykernel.inprocess.client import InProcessKernelClient
        from ipykernel.inprocess.manager import InProcessKernelManager
        from jupyter_client.utils import run_sync
        from traitlets import Type

        bridge = self

        class FrameChannel(InProcessChannel):
            def call_handlers(self, msg):
                bridge.emit(msg, "iopub")

        class BridgeClient(InProcessKernelClient):
            iopub_channel_class = Type(FrameChannel)

        self.writer = writer
        self.terminals = Terminals(writer.write, log_exception)
        self.requests = queue.Queue()
        self.input_replies = queue.Queue()
        self.main_ident = threading.main_thread().ident
        self.executing = False
        self.reply_seen = False
        # The kernel round-trips headers through datetime objects; answering with the request's
        # exact header lets the worker match replies by value, not just by msg_id.
        self.request_headers = collections.OrderedDict()

        self.manager = InProcessKernelManager()
        self.manager.start_kernel()
        self.kernel = self.manager.kernel
        self.client = BridgeClient(parent=self.manager, kernel=self.kernel, session=self.manager.session)
        self.client.start_channels()
        self.dispatch_shell = run_sync(self.kernel.dispatch_shell)
        self.kernel.shell_stream.observe(self._on_shell_reply, names=["message_sent"])
        self.kernel._input_request = self._input_request

        # Outside cells, stdout/stderr (background threads, warnings) still reach the notebook,
        # attributed to the latest request, as in a regular Jupyter kernel.
        sys.stdout, sys.stderr = self.kernel.stdout, self.kernel.stderr
        self._share_kernel()

    def _share_kernel(self):
        """User code finds the kernel as the process's Kernel singleton: ipykernel.comm.Comm()
        (a comm the kernel opens, ipywidgets 7) takes it from there. An in-process kernel is not
        that singleton by itself, so make it one, as IPKernelApp does for a regular kernel. The
        `comm` package (ipywidgets 8 calls comm.create_comm) creates dummy comms until a kernel
        claims it, which ipykernel does only from 6.18 on: cellar_comm points it here whenever it
        is imported (it usually comes later, with a %pip layer)."""
        from ipykernel.kernelbase import Kernel
        from traitlets.config import SingletonConfigurable

        import cellar_comm

        if not Kernel.initialized():
            for cls in type(self.kernel).mro():
                if issubclass(cls, SingletonConfigurable) and cls is not SingletonConfigurable:
                    cls._instance = self.kernel
        cellar_comm.install_for(self.kernel)

    # -- output --

    def emit(self, msg, channel):
        try:
            parent = msg.get("parent_header") or {}
            original = self.request_headers.get(parent.get("msg_id")) if parent else None
            frame = {
                "header": msg["header"],
                "parent_header": original or parent,
                "metadata": msg.get("metadata") or {},
                "content": msg.get("content") or {},
                "channel": channel,
            }
            if msg.get("buffers"):
                frame["buffers"] = [base64.b64encode(_buffer_bytes(b)).decode("ascii") for b in msg["buffers"]]
            self.writer.write(frame)
        except Exception:
            log_exception(f"emit({channel})")

    def emit_in_order(self, msg, channel):
        """Replies are sent from the main thread, iopub messages from the IOPub thread; routing
        replies through that thread keeps outputs before the reply that ends their cell."""
        self.kernel.iopub_thread.schedule(lambda: self.emit(msg, channel))

    def _on_shell_reply(self, _change):
        _idents, reply = self.kernel.session.recv(self.kernel.shell_stream, copy=False)
        if reply is not None:
            self.reply_seen = True
            self.emit_in_order(reply, "shell")

    def announce_ready(self):
        self.emit(self.kernel.session.msg("status", {"execution_state": "idle"}), "iopub")

    # -- input() inside cells --

    def _input_request(self, prompt, ident, parent, password=False):
        sys.stdout.flush()
        sys.stderr.flush()
        while not self.input_replies.empty():
            self.input_replies.get_nowait()
        msg = self.kernel.session.msg("input_request", {"prompt": prompt, "password": password}, parent)
        self.emit_in_order(msg, "stdin")
        reply = self.input_replies.get()
        return str(reply.get("content", {}).get("value", ""))

    # -- requests --

    def handle_frame(self, body):
        """Runs on the stdin reader thread: control messages act at once, the rest queue up."""
        try:
            msg = json.loads(body)
            if msg.get("channel") == TERMINAL_CHANNEL:
                return self.terminals.handle(msg)
            msg_type = msg["header"]["msg_type"]
        except Exception:
            log_exception("decoding a frame")
            return
        channel = msg.get("channel")
        if msg_type == "interrupt_request":
            if self.executing:
                signal.pthread_kill(self.main_ident, signal.SIGINT)
            self.reply_direct(msg, "interrupt_reply", {"status": "ok"}, "control")
        elif msg_type == "shutdown_request":
            self.reply_direct(msg, "shutdown_reply", {"status": "ok", "restart": False}, "control")
            os._exit(0)
        elif msg_type == "input_reply" or channel == "stdin":
            self.input_replies.put(msg)
        elif msg_type in STATE_REQUESTS and (self.executing or not self.requests.empty()):
            # Refused rather than queued: a move must not wait behind (or cut into) a running cell.
            self.reply_direct(msg, msg_type.replace("_request", "_reply"), {
                "status": "error",
                "evalue": "A cell is running: the kernel's variables can only move while it is idle.",
            }, "control")
        else:
            self.requests.put(msg)

    def reply_direct(self, request, msg_type, content, channel):
        self.emit(self.kernel.session.msg(msg_type, content, parent=request), channel)

    def remember(self, header):
        self.request_headers[header.get("msg_id")] = header
        while len(self.request_headers) > 256:
            self.request_headers.popitem(last=False)

    def warm_up(self, msg):
        """Runs the image's warm-up code in a snapshot boot, then forgets everything it defined:
        modules stay imported, but the user namespace, history and execution count start clean."""
        content = {"status": "ok"}
        if not SNAPSHOT_BOOT:
            content = {"status": "error", "evalue": "not a snapshot boot"}
        else:
            shell = self.kernel.shell
            result = shell.run_cell(msg.get("content", {}).get("code", ""), store_history=False, silent=True)
            if not result.success:
                err = result.error_in_exec or result.error_before_exec
                content = {"status": "error", "evalue": f"{type(err).__name__}: {err}"}
            shell.reset(new_session=True)
            shell.execution_count = 1
            sys.stdout.flush()
            sys.stderr.flush()
            gc.collect()
        self.reply_direct(msg, "cellar_warmup_reply", content, "control")

    def become_session(self, msg):
        content = msg.get("content", {})
        try:
            become_session(str(content["hostname"]), bytes.fromhex(content.get("entropy", "")))
            import uuid

            # Every message header carries the kernel session's id; a restored one must not share it.
            self.kernel.session.session = str(uuid.uuid4())
            reply = {"status": "ok", "uid": os.getuid(), "hostname": socket.gethostname()}
        except Exception as e:
            log_exception("taking on a restored session")
            reply = {"status": "error", "evalue": f"{type(e).__name__}: {e}"}
        self.reply_direct(msg, "cellar_restore_reply", reply, "control")
        if reply["status"] != "ok":
            # A kernel that could not shed the snapshot's identity or root must not run user code.
            os._exit(3)

    def move_state(self, msg):
        """Exports the user namespace to /workspace/.cellar/moves/<move_id>, or imports it from
        there (cellar_state.py), or copies what an import left mapped into memory before a
        checkpoint (cellar_mapped.py); on the kernel's thread with no cell running."""
        msg_type = msg["header"]["msg_type"]
        content = msg.get("content") or {}
        reply_type = msg_type.replace("_request", "_reply")
        try:
            import re

            import cellar_state

            if msg_type == "cellar_state_materialise_request":
                import cellar_mapped

                t0 = time.monotonic()
                done = cellar_mapped.materialise()
                reply = {"status": "ok", "bytes": done, "seconds": time.monotonic() - t0}
            else:
                move_id = str(content.get("move_id", ""))
                if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", move_id):
                    raise ValueError(f"bad move id {move_id!r}")
                move_dir = os.path.join(WORKSPACE, ".cellar", "moves", move_id)
                shell = self.kernel.shell
                if msg_type == "cellar_state_export_request":
                    report = cellar_state.export(shell.user_ns, move_dir, hidden=shell.user_ns_hidden)
                else:
                    report = cellar_state.import_(shell.user_ns, move_dir, gpu=bool(content.get("gpu")))
                reply = {"status": "ok", "report": report}
        except Exception as e:
            log_exception(msg_type)
            reply = {"status": "error", "evalue": f"{type(e).__name__}: {e}"}
        sys.stdout.flush()
        sys.stderr.flush()
        self.reply_direct(msg, reply_type, reply, "control")

    def dispatch(self, msg):
        import zmq

        header = msg["header"]
        if header["msg_type"] == "cellar_warmup_request":
            return self.warm_up(msg)
        if header["msg_type"] == "cellar_restore_request":
            return self.become_session(msg)
        if header["msg_type"] in STATE_REQUESTS:
            return self.move_state(msg)
        self.remember(header)
        wire = {
            "header": header,
            "parent_header": msg.get("parent_header") or {},
            "metadata": msg.get("metadata") or {},
            "content": msg.get("content") or {},
        }
        # serialize() leaves a message's binary buffers out (Session.send appends them): they
        # follow the content as parts of their own, where deserialize() reads msg["buffers"].
        buffers = [base64.b64decode(b) for b in msg.get("buffers") or []]
        parts = [zmq.Message(p) for p in self.kernel.session.serialize(wire) + buffers]
        self.reply_seen = False
        self.executing = header["msg_type"] in RUNS_USER_CODE
        interrupted = False
        try:
            self.dispatch_shell(parts)
        except KeyboardInterrupt:
            # The interrupt landed just outside the user's code, possibly before the kernel
            # published its final idle status.
            interrupted = True
        finally:
            self.executing = False
        if not self.reply_seen and header["msg_type"].endswith("_request"):
            # The kernel drops a request it could not handle (unknown type, an interrupt landing
            # between cells); answer anyway so the worker never waits forever. Only requests:
            # comm_open/comm_msg/comm_close have no reply (ipykernel's comm manager handles them on
            # shell and publishes busy/idle around them), and a made-up one would reach the page.
            reply_type = header["msg_type"][: -len("_request")] + "_reply"
            content = {"status": "error", "ename": "UnhandledRequest", "evalue": f"{header['msg_type']} was not handled", "traceback": []}
            if header["msg_type"] == "execute_request":
                content["execution_count"] = self.kernel.execution_count
            self.emit_in_order(self.kernel.session.msg(reply_type, content, parent=msg), "shell")
        if interrupted:
            self.emit_in_order(self.kernel.session.msg("status", {"execution_state": "idle"}, parent=msg), "iopub")

    def serve(self):
        while True:
            msg = self.requests.get()
            try:
                self.dispatch(msg)
            except KeyboardInterrupt:
                log.warning("interrupt arrived outside a cell; ignored")
            except Exception:
                log_exception("dispatching a request")


def read_loop(bridge):
    try:
        for body in read_frames(0):
            bridge.handle_frame(body)
        # The worker closed our stdin: nobody can see output any more, so end the sandbox.
        say("stdin closed; exiting")
    except BaseException:
        log_exception("the stdin reader")
    finally:
        os._exit(0)


def main():
    # Between cells an interrupt must not kill the bridge; during a cell ipykernel installs
    # Python's default handler, which raises KeyboardInterrupt in the user's code.
    signal.signal(signal.SIGINT, lambda *_: None)
    seed_matplotlib_cache()
    bridge = KernelBridge(FrameWriter(FRAME_FD))
    threading.Thread(target=read_loop, args=(bridge,), name="cellar-stdin", daemon=True).start()
    bridge.announce_ready()
    bridge.serve()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        log_exception("main")
        os._exit(1)
