"""Arrays a state move brought in, over private mappings of the files they came in (issue 15).

A move's array bytes arrive in one file per name (cellar_state's <n>.buf). Reading a gigabyte of
them into fresh memory took the kernel 0.8-3 s in gVisor; mapping the file copy-on-write takes
milliseconds, and a page is copied only when the notebook first writes to it. The file may be
deleted at once (the mapping keeps it), so the move's folder still goes after the import.

One catch: runsc will not checkpoint a sandbox that maps a deleted file. materialise() therefore
turns every mapping still alive into anonymous memory at the same address (copy into a fresh
anonymous mapping, then mremap it over the old one), so the arrays over it never notice; the
worker asks for it before it suspends a kernel that imported a move.
"""
import ctypes
import gc
import mmap
import os
import threading
import weakref

_MREMAP_MAYMOVE = 1
_MREMAP_FIXED = 2

# address -> span (the size rounded up to whole pages) of every mapping some array still uses.
_live = {}
# Reentrant: a finalizer (_unmap) may run on this thread inside a locked section, when an
# allocation there sets off the cycle collector.
_lock = threading.RLock()
_libc = None


def _c():
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
        libc.mremap.restype = ctypes.c_void_p
        libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
        libc.munmap.restype = ctypes.c_int
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        _libc = libc
    return _libc


_FAILED = ctypes.c_void_p(-1).value


def _mmap(size, flags, fd):
    addr = _c().mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, flags, fd, 0)
    if addr in (None, _FAILED):
        err = ctypes.get_errno()
        raise OSError(err, f"mmap of {size} bytes failed")
    return addr


def map_file(path, size):
    """A writable numpy uint8 array over a private mapping of the file's first `size` bytes, or
    None where mapping is not possible here (no numpy, an empty file): the caller reads it
    instead. The mapping goes when the last array over it does."""
    if size <= 0:
        return None
    try:
        # Imported here if need be: the pickles over these buffers are numpy's (or torch's, through
        # numpy), and loading them would import it anyway.
        import numpy
    except ImportError:
        return None
    fd = os.open(path, os.O_RDONLY)
    span = _pages(size)
    try:
        addr = _mmap(span, mmap.MAP_PRIVATE, fd)
    finally:
        # The mapping holds the file; an open descriptor would also block a checkpoint.
        os.close(fd)
    block = numpy.frombuffer((ctypes.c_ubyte * size).from_address(addr), numpy.uint8)
    with _lock:
        _live[addr] = span
    weakref.finalize(block, _unmap, addr, span)
    return block


def _pages(size):
    return -(-size // mmap.PAGESIZE) * mmap.PAGESIZE


def _unmap(addr, span):
    with _lock:
        _live.pop(addr, None)
    _c().munmap(addr, span)


def mapped_bytes():
    with _lock:
        return sum(_live.values())


def materialise():
    """Copies every live mapping into anonymous memory at the same address; returns the bytes
    copied. After it, the kernel maps no file a move brought."""
    done = 0
    collecting = gc.isenabled()
    # No finalizer may unmap a mapping between the check below and the copy from it.
    gc.disable()
    try:
        with _lock:
            done = _materialise_live()
    finally:
        if collecting:
            gc.enable()
    return done


def _materialise_live():
    done = 0
    for addr, span in list(_live.items()):
        if addr not in _live:
            continue
        fresh = _mmap(span, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
        # The whole span: the file's last page reads as zeros past its end.
        ctypes.memmove(fresh, addr, span)
        moved = _c().mremap(fresh, span, span, _MREMAP_MAYMOVE | _MREMAP_FIXED, addr)
        if moved in (None, _FAILED):
            err = ctypes.get_errno()
            _c().munmap(fresh, span)
            raise OSError(err, f"mremap of {span} bytes over a moved array failed")
        # Its finalizer still unmaps it: the address is the same, only anonymous now.
        del _live[addr]
        done += span
    return done
