"""cellar_state: export a namespace from one 'kernel' and import it into another.

Run with Debian's python3 (python3-dill, python3-cloudpickle, python3-numpy, python3-pandas; see
scripts/install-system.sh --test): `python3 -m unittest -v test_cellar_state` in this folder. The
worker's `npm test` runs it (src/kernel/cellar-state.test.ts).

Each side is a module named __main__ whose dict is the namespace, as in IPython, where the user's
namespace is the __main__ module's: code is exec'd there, and sys.modules["__main__"] points at it
while its side runs, so notebook classes and functions resolve as they do in a kernel.
"""
import contextlib
import gc
import json
import os
import shutil
import socket
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellar_mapped  # noqa: E402
import cellar_state  # noqa: E402


class Kernel:
    def __init__(self):
        self.module = types.ModuleType("__main__")
        self.ns = self.module.__dict__

    @contextlib.contextmanager
    def active(self):
        old = sys.modules["__main__"]
        sys.modules["__main__"] = self.module
        try:
            yield
        finally:
            sys.modules["__main__"] = old

    def run(self, code):
        with self.active():
            exec(code, self.ns)

    def export(self, move_dir):
        with self.active():
            return cellar_state.export(self.ns, move_dir)

    def import_(self, move_dir, **kw):
        with self.active():
            return cellar_state.import_(self.ns, move_dir, **kw)


def move(code, after=""):
    """Runs code in one kernel, moves its namespace to a fresh one, runs `after` there."""
    src, dst = Kernel(), Kernel()
    src.run(code)
    with tempfile.TemporaryDirectory() as ws:
        move_dir = os.path.join(ws, ".cellar", "moves", "m1")
        exported = src.export(move_dir)
        imported = dst.import_(move_dir)
        left = os.path.exists(move_dir)
    if after:
        dst.run(after)
    return src, dst, exported, imported, left


def manifest_entries(move_dir):
    """An exported move's manifest entries, by name."""
    with open(os.path.join(move_dir, "manifest.json")) as f:
        return {e["name"]: e for e in json.load(f)["names"]}


class StateMoveTest(unittest.TestCase):
    def test_arrays_frames_functions_classes_and_modules_move(self):
        src, dst, exported, imported, left = move(
            """
import numpy as np
import pandas as pd
import os.path as osp
a = np.arange(1_000_000, dtype=np.float64).reshape(1000, 1000)
f = np.asfortranarray(np.ones((3, 4), dtype=np.int32))
df = pd.DataFrame({"x": [1, 2, 3], "name": ["a", "b", "c"]})
square = lambda v: v * v
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def norm2(self):
        return self.x ** 2 + self.y ** 2
p = Point(3, 4)
same = a
_private = 1
""",
            after="""
check_a = float(a.sum()) == float(np.arange(1_000_000).sum()) and a.shape == (1000, 1000)
check_f = f.flags.f_contiguous and int(f.sum()) == 12
check_df = df["name"].tolist() == ["a", "b", "c"] and int(df["x"].sum()) == 6
check_fn = square(7) == 49
check_p = p.norm2() == 25 and isinstance(p, Point)
check_same = same is a
check_writable = a.flags.writeable
""",
        )
        for check in ("check_a", "check_f", "check_df", "check_fn", "check_p", "check_same", "check_writable"):
            self.assertIs(dst.ns[check], True, check)
        self.assertEqual(
            sorted(m["name"] + "=" + m["module"] for m in exported["modules"]), ["np=numpy", "osp=posixpath", "pd=pandas"]
        )
        self.assertIs(dst.ns["np"], sys.modules["numpy"])
        self.assertNotIn("_private", dst.ns)
        self.assertEqual(exported["skipped"], [])
        self.assertEqual(imported["failed"], [])
        self.assertEqual(sorted(imported["names"]), sorted(["np", "pd", "osp", "a", "f", "df", "square", "Point", "p", "same"]))
        by_name = {n["name"]: n for n in exported["names"]}
        self.assertEqual(by_name["a"]["type"], "numpy.ndarray")
        self.assertGreaterEqual(by_name["a"]["bytes"], 8_000_000)
        self.assertEqual(by_name["same"]["bytes"], 0)
        self.assertEqual(by_name["df"]["type"], "pandas.core.frame.DataFrame")
        self.assertEqual(exported["bytes"], sum(n["bytes"] for n in exported["names"]))
        self.assertFalse(left, "import deletes the move's directory")

    def test_what_cannot_move_is_listed_with_type_and_reason(self):
        src, dst, exported, imported, left = move(
            """
import socket, sqlite3
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
gen = (i for i in range(3))
db = sqlite3.connect(":memory:")
ok = [1, 2, 3]
"""
        )
        try:
            skipped = {s["name"]: s for s in exported["skipped"]}
            self.assertEqual(sorted(skipped), ["db", "gen", "sock"])
            self.assertEqual(skipped["sock"]["type"], "socket.socket")
            self.assertIn("socket", skipped["sock"]["reason"])
            self.assertEqual(skipped["gen"]["type"], "generator")
            self.assertIn("generator", skipped["gen"]["reason"])
            self.assertEqual(skipped["db"]["type"], "sqlite3.Connection")
            self.assertTrue(all(": " in s["reason"] and "\n" not in s["reason"] for s in skipped.values()))
            self.assertEqual(dst.ns["ok"], [1, 2, 3])
            self.assertNotIn("sock", dst.ns)
            self.assertEqual(imported["failed"], [])
        finally:
            src.ns["sock"].close()
            src.ns["db"].close()

    def test_a_name_that_fails_to_load_is_reported_and_the_others_still_load(self):
        src, dst = Kernel(), Kernel()
        src.run("x = 41\ny = 'kept'\nimport json as j")
        with tempfile.TemporaryDirectory() as ws:
            move_dir = os.path.join(ws, "m")
            exported = src.export(move_dir)
            by_name = manifest_entries(move_dir)
            with open(os.path.join(move_dir, by_name["x"]["file"] + ".pkl"), "wb") as f:
                f.write(b"not a pickle")
            imported = dst.import_(move_dir)
        self.assertEqual([n["name"] for n in exported["names"]], ["x", "y"])
        self.assertEqual([f["name"] for f in imported["failed"]], ["x"])
        self.assertEqual(imported["failed"][0]["type"], "int")
        self.assertIn("UnpicklingError", imported["failed"][0]["reason"])
        self.assertEqual(dst.ns["y"], "kept")
        self.assertIs(dst.ns["j"], sys.modules["json"])

    def test_arrays_inside_containers_leave_out_of_band(self):
        # dill's own numpy reducer would put their bytes into the pickle (copied twice more).
        src, dst = Kernel(), Kernel()
        src.run("import numpy as np\nbig = np.arange(250_000, dtype=np.float64)\narrays = [big, big[::2], {'k': np.ones(1000)}]")
        with tempfile.TemporaryDirectory() as ws:
            move_dir = os.path.join(ws, "m")
            exported = src.export(move_dir)
            entry = manifest_entries(move_dir)["arrays"]
            self.assertEqual(entry["pickler"], "dill")
            self.assertGreaterEqual(os.path.getsize(os.path.join(move_dir, entry["file"] + ".buf")), 2_000_000)
            self.assertLess(os.path.getsize(os.path.join(move_dir, entry["file"] + ".pkl")), 1_100_000)  # the strided view is in band
            imported = dst.import_(move_dir)
        self.assertEqual(imported["failed"], [])
        self.assertEqual([n["name"] for n in exported["names"]], ["arrays", "big"])
        arrays = dst.ns["arrays"]
        self.assertTrue((arrays[0] == src.ns["big"]).all() and (arrays[1] == src.ns["big"][::2]).all())
        self.assertEqual(arrays[2]["k"].sum(), 1000)
        self.assertTrue(arrays[0].flags.writeable)

    def test_no_exported_state_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as ws:
            with self.assertRaisesRegex(FileNotFoundError, "no exported state"):
                cellar_state.import_({}, os.path.join(ws, "nothing"))

    def test_torch_cpu_tensors_and_modules_move(self):
        try:
            import torch  # noqa: F401
        except ImportError:
            print("\n[skip] torch CPU tensors: python3-torch is not installed on this host", file=sys.stderr)
            self.skipTest("python3-torch is not installed")
        src, dst, exported, imported, left = move(
            """
import torch
t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
h = torch.ones(4, dtype=torch.bfloat16)
lin = torch.nn.Linear(4, 2)
w = lin.weight.detach().clone()
""",
            after="check = bool((t == torch.arange(12, dtype=torch.float32).reshape(3, 4)).all()) and bool((lin.weight == w).all()) and h.dtype == torch.bfloat16 and isinstance(lin.weight, torch.nn.Parameter)",
        )
        self.assertEqual(exported["skipped"], [])
        self.assertEqual(imported["failed"], [])
        self.assertIs(dst.ns["check"], True)


def mapped_lines(path_part):
    """This process's mappings of files whose path contains path_part."""
    with open("/proc/self/maps") as f:
        return [line for line in f if path_part in line]


class MappedImportTest(unittest.TestCase):
    """Arrays an import leaves over private mappings of the move's files (cellar_mapped)."""

    def moved(self):
        src, dst = Kernel(), Kernel()
        src.run("import numpy as np\na = np.arange(3_000_001, dtype=np.float64)\nb = [np.ones(5000, np.int32), np.zeros(3)]")
        ws = tempfile.mkdtemp(prefix="cellar-mapped-")
        self.addCleanup(shutil.rmtree, ws, ignore_errors=True)
        move_dir = os.path.join(ws, "m")
        src.export(move_dir)
        imported = dst.import_(move_dir)
        return src, dst, imported, ws

    def test_arrays_are_mapped_copy_on_write_and_the_files_still_go(self):
        src, dst, imported, ws = self.moved()
        self.assertEqual(imported["failed"], [])
        self.assertGreaterEqual(imported["mapped_bytes"], 3_000_001 * 8 + 5000 * 4)
        self.assertNotIn("unmapped", imported)
        self.assertFalse(os.path.exists(os.path.join(ws, "m")))
        self.assertTrue(mapped_lines(ws), "the arrays should sit on mappings of the (deleted) files")
        a = dst.ns["a"]
        self.assertTrue((a == src.ns["a"]).all())
        a[7] = -1.0
        dst.ns["b"][0][:] = 2
        self.assertEqual((a[7], a[8], int(dst.ns["b"][0].sum())), (-1.0, 8.0, 10_000))
        self.assertEqual(src.ns["a"][7], 7.0)

    def test_materialise_keeps_every_value_and_leaves_no_file_mapped(self):
        src, dst, imported, ws = self.moved()
        a = dst.ns["a"]
        a[0] = 42.0
        before = cellar_mapped.mapped_bytes()
        self.assertGreater(before, 0)
        self.assertEqual(cellar_mapped.materialise(), before)
        self.assertEqual(mapped_lines(ws), [])
        self.assertEqual(cellar_mapped.mapped_bytes(), 0)
        self.assertEqual(a[0], 42.0)
        self.assertTrue((a[1:] == src.ns["a"][1:]).all())
        a[1] = 5.0
        self.assertEqual(a[1], 5.0)
        self.assertEqual(cellar_mapped.materialise(), 0)

    def test_a_mapping_goes_with_the_last_array_over_it(self):
        src, dst, imported, ws = self.moved()
        self.assertTrue(mapped_lines(ws))
        dst.ns.clear()
        gc.collect()
        self.assertEqual(mapped_lines(ws), [])
        self.assertEqual(cellar_mapped.mapped_bytes(), 0)


if __name__ == "__main__":
    unittest.main()
