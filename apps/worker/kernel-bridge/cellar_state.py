"""Moving a kernel's variables to another kernel, name by name (issue 15: a cell on another device).

export(user_ns, move_dir) writes each movable name of the namespace to its own file under
move_dir, plus manifest.json; import_(user_ns, move_dir) loads them into another kernel's
namespace and deletes move_dir. Both return the report dicts of @cellar/protocol's devices.ts
(stateExportReportSchema, stateImportReportSchema).

How a value is written:
- modules bound to names (`np`) are not pickled: their name is listed and re-imported;
- a name bound to the same object as an earlier one is written as an alias of it, so the two stay
  one object (shared objects *inside* values of different names are still loaded as copies);
- plain numpy arrays go through the stdlib's C pickler; everything else through dill (classes
  defined in the notebook by reference when their class is itself moved, else by value), then
  cloudpickle; what both refuse is skipped with its type and the reason;
- pickle protocol 5 with out-of-band buffers: array (and tensor) bytes are written straight from
  the object's memory to <n>.buf; the importing side maps that file copy-on-write and the arrays
  sit on the mapping (cellar_mapped.py: no copy until a page is written; before a checkpoint the
  mappings become anonymous memory), or, where mapping fails, reads it in one read into one buffer;
- torch tensors are written as CPU tensors (GPU memory cannot be pickled for another machine);
  an import that asks for a GPU (the new kernel is a GPU kernel) puts every tensor, and so every
  module's parameters, on CUDA when torch.cuda.is_available(): the cell that moved the kernel
  finds its tensors on the device it asked for, all on one device. A CPU import keeps them on CPU.
"""
import io
import json
import os
import pickle
import shutil
import sys
import time
import types
import warnings

import cellar_mapped

MANIFEST = "manifest.json"
VERSION = 1
# IPython's own names (history, output cache, helpers); the shell's user_ns_hidden adds the rest.
IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
# Out-of-band buffers start at multiples of this in a .buf file, so arrays loaded over it are aligned.
ALIGN = 64

# Set by import_ for the duration of a load: the device tensors go to (None: stay on CPU).
_tensor_target = None


# ---- naming ------------------------------------------------------------------------------------

def movable(name, hidden=()):
    return not name.startswith("_") and name not in IPYTHON_NAMES and name not in hidden


def type_name(value):
    t = type(value)
    return t.__qualname__ if t.__module__ in ("builtins", None) else f"{t.__module__}.{t.__qualname__}"


def reason_of(err):
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


# ---- torch -------------------------------------------------------------------------------------

def _restore_tensor(array, requires_grad, was_gpu, parameter):
    import torch

    t = torch.from_numpy(array) if array is not None else None
    return _finish_tensor(t, requires_grad, was_gpu, parameter)


def _restore_tensor_cpu(tensor, requires_grad, was_gpu, parameter):
    return _finish_tensor(tensor, requires_grad, was_gpu, parameter)


def _finish_tensor(t, requires_grad, was_gpu, parameter):
    import torch

    # was_gpu is kept in the pickle for what a later policy may want; today the import decides.
    global _tensor_target
    if _tensor_target == "cuda?":
        _tensor_target = "cuda" if torch.cuda.is_available() else None
    if _tensor_target is not None:
        t = t.to(_tensor_target)
    if parameter:
        return torch.nn.Parameter(t, requires_grad=requires_grad)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _reduce_tensor(obj):
    """A tensor as CPU data: through numpy (zero-copy, out-of-band) where its dtype allows."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(obj, torch.Tensor) or obj.layout != torch.strided:
        return NotImplemented
    if type(obj) not in (torch.Tensor, torch.nn.Parameter):
        return NotImplemented
    was_gpu = obj.device.type != "cpu"
    parameter = isinstance(obj, torch.nn.Parameter)
    cpu = obj.detach().cpu()
    try:
        return (_restore_tensor, (cpu.numpy(), obj.requires_grad, was_gpu, parameter))
    except (TypeError, RuntimeError):  # e.g. bfloat16: no numpy dtype
        return (_restore_tensor_cpu, (cpu.contiguous(), obj.requires_grad, was_gpu, parameter))


def _plain_array(value):
    numpy = sys.modules.get("numpy")
    return numpy is not None and type(value) is numpy.ndarray and not value.dtype.hasobject


# ---- picklers ----------------------------------------------------------------------------------

def _dill_pickler(byref):
    import dill

    class Pickler(dill.Pickler):
        def reducer_override(self, obj):
            # dill has its own reducer for numpy arrays, which writes their bytes into the pickle:
            # an array inside a list, a dict, a DataFrame or a tensor would be copied twice on
            # the way out and once more in (a list of 1 GB of arrays: export 2.9-3.9 s, against
            # 0.4 s with its bytes out of band). numpy's own protocol 5 reduction hands them
            # to the buffer callback, as the stdlib pickler does for a plain array.
            if _plain_array(obj):
                return obj.__reduce_ex__(5)
            return _reduce_tensor(obj)

    def make(f, cb):
        p = Pickler(f, protocol=5, byref=byref, buffer_callback=cb)
        # dill took __main__ when it was first imported; the namespace's module is the one now.
        p._main = sys.modules["__main__"]
        return p

    return make


def _cloudpickle_pickler():
    import cloudpickle

    class Pickler(cloudpickle.Pickler):
        def reducer_override(self, obj):
            r = _reduce_tensor(obj)
            return super().reducer_override(obj) if r is NotImplemented else r

    return lambda f, cb: Pickler(f, protocol=5, buffer_callback=cb)


class _StdlibPickler(pickle.Pickler):
    def reducer_override(self, obj):
        return _reduce_tensor(obj)


def _stdlib_pickler():
    # Used for plain arrays, and for everything in a Python without dill and cloudpickle (the
    # GPU test machine has neither): tensors still leave as CPU data.
    return lambda f, cb: _StdlibPickler(f, protocol=5, buffer_callback=cb)


def _available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def _picklers_for(value, moved_classes):
    """(label, make) in the order to try. `label` is the module needed to load the result."""
    if _plain_array(value):
        yield "pickle", _stdlib_pickler()
        return
    if _available("dill"):
        # By reference, an instance of a notebook class points at the class moved under its own
        # name, so both stay one class; by value where that class is not moved (or is itself).
        if moved_classes and not isinstance(value, type):
            yield "dill", _dill_pickler(byref=True)
        yield "dill", _dill_pickler(byref=False)
    if _available("cloudpickle"):
        yield "cloudpickle", _cloudpickle_pickler()
    if not _available("dill") and not _available("cloudpickle"):
        yield "pickle", _stdlib_pickler()


def _dump(value, moved_classes):
    """Pickles value: (label, pickle bytes, out-of-band buffers) or raises the last refusal."""
    last = None
    for label, make in _picklers_for(value, moved_classes):
        buffers = []
        f = io.BytesIO()
        try:
            with warnings.catch_warnings():
                # dill warns of references it then pickles by value: nothing the user must act on.
                warnings.simplefilter("ignore")
                make(f, lambda b: buffers.append(b.raw()) or False).dump(value)
            return label, f.getbuffer(), buffers
        except BaseException as e:  # a refusing __reduce__ may raise anything
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            last = e
    raise last if last else pickle.PicklingError("no pickler is installed")


def _write_buffers(path, buffers):
    sizes = []
    with open(path, "wb", buffering=0) as f:
        offset = 0
        for mv in buffers:
            pad = -offset % ALIGN
            if pad:
                f.write(b"\0" * pad)
                offset += pad
            mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
            view = mv
            while view:
                n = f.write(view)
                view = view[n:]
            sizes.append(len(mv))
            offset += len(mv)
    return sizes


# ---- export ------------------------------------------------------------------------------------

def export(user_ns, move_dir, hidden=()):
    """Writes the namespace's movable names to move_dir; returns the export report."""
    t0 = time.monotonic()
    os.makedirs(move_dir, exist_ok=True)
    names = sorted(n for n in list(user_ns) if movable(n, hidden))
    report = {"names": [], "skipped": [], "modules": [], "bytes": 0, "seconds": 0.0}
    entries, aliases = [], []
    seen = {}
    main = sys.modules.get("__main__")
    # Notebook classes bound to a name under which the importing side will find them again.
    moved_classes = {
        n for n in names
        if isinstance(user_ns[n], type) and getattr(user_ns[n], "__module__", None) == "__main__"
        and getattr(main, n, None) is user_ns[n]
    }
    # Classes and functions first: instances pickled by reference find their class on import.
    names.sort(key=lambda n: (0 if isinstance(user_ns[n], type) else 1, n))
    for name in names:
        value = user_ns[name]
        if isinstance(value, types.ModuleType):
            report["modules"].append({"name": name, "module": value.__name__})
            continue
        if id(value) in seen:
            aliases.append({"name": name, "of": seen[id(value)]})
            report["names"].append({"name": name, "type": type_name(value), "bytes": 0})
            continue
        try:
            label, data, buffers = _dump(value, moved_classes)
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            report["skipped"].append({"name": name, "type": type_name(value), "reason": reason_of(e)})
            continue
        stem = f"{len(entries):05d}"
        with open(os.path.join(move_dir, stem + ".pkl"), "wb") as f:
            f.write(data)
        sizes = _write_buffers(os.path.join(move_dir, stem + ".buf"), buffers) if buffers else []
        size = len(data) + sum(sizes)
        seen[id(value)] = name
        entries.append({"name": name, "type": type_name(value), "file": stem, "pickler": label, "buffers": sizes})
        report["names"].append({"name": name, "type": type_name(value), "bytes": size})
        report["bytes"] += size
    manifest = {"version": VERSION, "modules": report["modules"], "names": entries, "aliases": aliases}
    tmp = os.path.join(move_dir, MANIFEST + ".part")
    with open(tmp, "w") as f:
        json.dump(manifest, f)
    os.replace(tmp, os.path.join(move_dir, MANIFEST))
    report["seconds"] = time.monotonic() - t0
    return report


# ---- import ------------------------------------------------------------------------------------

def _read_buffers(path, sizes, report):
    """The whole file as one buffer the out-of-band buffers are views of: a private mapping of it
    (cellar_mapped: no copy until the notebook writes) where that works, else one read of it into
    one buffer."""
    total = os.path.getsize(path)
    try:
        block = cellar_mapped.map_file(path, total)
    except OSError as e:
        block = None
        report.setdefault("unmapped", f"{os.path.basename(path)}: {e}")
    if block is not None:
        report["mapped_bytes"] += total
        mv = memoryview(block).cast("B")
    else:
        numpy = sys.modules.get("numpy")
        # numpy's allocation is aligned (arrays over it are too) and may use huge pages.
        block = numpy.empty(total, numpy.uint8) if numpy is not None else bytearray(total)
        mv = memoryview(block).cast("B")
        with open(path, "rb", buffering=0) as f:
            done = 0
            while done < total:
                n = f.readinto(mv[done:])
                if not n:
                    raise EOFError(f"{os.path.basename(path)} ends at {done} of {total} bytes")
                done += n
    views, offset = [], 0
    for size in sizes:
        offset += -offset % ALIGN
        views.append(mv[offset:offset + size])
        offset += size
    return views


def _load(entry, move_dir, report):
    label = entry.get("pickler", "dill")
    if label not in ("pickle", "dill", "cloudpickle"):
        raise ValueError(f"unknown pickler {label!r}")
    if label != "pickle" and not _available(label):
        raise ImportError(f"{label} is not installed in this kernel's image")
    stem = os.path.join(move_dir, entry["file"])
    buffers = _read_buffers(stem + ".buf", entry["buffers"], report) if entry.get("buffers") else ()
    with open(stem + ".pkl", "rb") as f:
        if label != "dill":
            return pickle.load(f, buffers=buffers)
        import dill

        u = dill.Unpickler(f, buffers=buffers)
        u._main = sys.modules["__main__"]
        return u.load()


def import_(user_ns, move_dir, gpu=False):
    """Loads what export wrote into user_ns (modules, then classes, then the rest; a name that
    fails goes to `failed`, the others still load) and deletes move_dir. `gpu`: tensors go to
    CUDA when torch has it."""
    global _tensor_target
    t0 = time.monotonic()
    report = {"names": [], "failed": [], "seconds": 0.0, "mapped_bytes": 0}
    try:
        with open(os.path.join(move_dir, MANIFEST)) as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"no exported state at {move_dir}") from None
    if manifest.get("version") != VERSION:
        raise ValueError(f"exported state version {manifest.get('version')!r}, this kernel reads {VERSION}")
    # Asked on the first tensor loaded (_finish_tensor), so torch is imported only when needed.
    _tensor_target = "cuda?" if gpu else None
    try:
        for m in manifest.get("modules", []):
            try:
                user_ns[m["name"]] = __import__(m["module"], fromlist=["_"]) if "." in m["module"] else __import__(m["module"])
                report["names"].append(m["name"])
            except BaseException as e:
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                report["failed"].append({"name": m["name"], "type": "module", "reason": reason_of(e)})
        for entry in manifest.get("names", []):  # export wrote classes first
            try:
                user_ns[entry["name"]] = _load(entry, move_dir, report)
                report["names"].append(entry["name"])
            except BaseException as e:
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                report["failed"].append({"name": entry["name"], "type": entry.get("type", "?"), "reason": reason_of(e)})
        for alias in manifest.get("aliases", []):
            if alias["of"] in report["names"] and alias["of"] in user_ns:
                user_ns[alias["name"]] = user_ns[alias["of"]]
                report["names"].append(alias["name"])
            else:
                report["failed"].append({"name": alias["name"], "type": "alias", "reason": f"{alias['of']} did not load"})
    finally:
        _tensor_target = None
    shutil.rmtree(move_dir, ignore_errors=True)
    report["seconds"] = time.monotonic() - t0
    return report
