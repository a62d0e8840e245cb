"""cellar_comm: the `comm` package, imported after the bridge started, makes the kernel's comms.

Run with Debian's python3: `python3 -m unittest -v test_cellar_comm` in this folder (the worker's
`npm test` runs it with test_cellar_state). A stand-in `comm` package (the real one's defaults:
dummies) is written to a temporary folder, and the real comm wheel of the local index is imported
from its zip when this machine has it. ipykernel is stood in for by modules in sys.modules.
"""
import glob
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cellar_comm  # noqa: E402

FAKE_COMM = '''
class DummyComm:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

class CommManager:
    def __init__(self):
        self.targets = {}
    def register_target(self, name, f):
        self.targets[name] = f

_manager = None

def create_comm(*args, **kwargs):
    return DummyComm(*args, **kwargs)

def get_comm_manager():
    global _manager
    if _manager is None:
        _manager = CommManager()
    return _manager
'''

# ipywidgets' shape: the target is registered in the module's own body.
WIDGETS = '''
import comm
registered_with = comm.get_comm_manager()
registered_with.register_target("jupyter.widget", lambda c, m: None)
made = comm.create_comm(target_name="jupyter.widget", data={"state": {}})
'''

REAL_COMM = sorted(glob.glob("/opt/pypi/files/comm-0.*-py3-none-any.whl"))


class Manager:
    def __init__(self):
        self.targets = {}

    def register_target(self, name, f):
        self.targets[name] = f


class KernelComm:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class CommImportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.saved_path = list(sys.path)
        self.saved_meta_path = list(sys.meta_path)
        self.forget()
        self.manager = Manager()

    def tearDown(self):
        sys.path[:] = self.saved_path
        sys.meta_path[:] = self.saved_meta_path
        self.forget()
        self.dir.cleanup()

    def forget(self):
        for name in list(sys.modules):
            if name in ("comm", "fake_widgets", "ipykernel", "ipykernel.comm") or name.startswith("comm."):
                del sys.modules[name]

    def write(self, relpath, text):
        path = os.path.join(self.dir.name, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def fake_packages(self):
        self.write("comm/__init__.py", FAKE_COMM)
        self.write("fake_widgets.py", WIDGETS)
        sys.path.insert(0, self.dir.name)

    def install(self):
        return cellar_comm.install(lambda *a, **kw: KernelComm(*a, **kw), lambda: self.manager)

    def test_a_later_import_is_patched_before_the_importer_goes_on(self):
        self.fake_packages()
        self.install()
        import fake_widgets

        self.assertIs(fake_widgets.registered_with, self.manager)
        self.assertIn("jupyter.widget", self.manager.targets)
        self.assertIsInstance(fake_widgets.made, KernelComm)
        self.assertEqual(fake_widgets.made.kwargs, {"target_name": "jupyter.widget", "data": {"state": {}}})
        # Otherwise the module is the package's own: found where it lies, its other names kept.
        import comm

        self.assertEqual(os.path.dirname(comm.__file__), os.path.join(self.dir.name, "comm"))
        self.assertTrue(hasattr(comm, "DummyComm"))

    def test_a_module_imported_already_is_patched_at_once(self):
        self.fake_packages()
        import comm

        self.assertIsInstance(comm.create_comm(), comm.DummyComm)
        self.install()
        self.assertIs(comm.get_comm_manager(), self.manager)
        self.assertIsInstance(comm.create_comm(), KernelComm)

    def test_an_import_again_is_patched_again(self):
        self.fake_packages()
        self.install()
        import comm

        del sys.modules["comm"]
        import comm as again

        self.assertIsNot(again, comm)
        self.assertIs(again.get_comm_manager(), self.manager)

    def test_other_modules_and_a_missing_comm_are_left_alone(self):
        hook = self.install()
        self.assertIsNone(hook.find_spec("json"))
        sys.path[:] = [self.dir.name]  # no comm anywhere: its import fails as it would unhooked
        self.assertIsNone(hook.find_spec("comm"))
        with self.assertRaises(ModuleNotFoundError):
            import comm  # noqa: F401

    @unittest.skipUnless(REAL_COMM, "no comm wheel under /opt/pypi/files")
    def test_the_real_comm_package_from_its_wheel(self):
        sys.path.insert(0, REAL_COMM[-1])  # a pure-Python wheel imports from its zip
        self.install()
        from comm import create_comm, get_comm_manager

        made = create_comm(target_name="jupyter.widget", data={"state": {"value": 3}}, comm_id="m1")
        self.assertIsInstance(made, KernelComm)
        self.assertEqual(made.kwargs["comm_id"], "m1")
        self.assertIs(get_comm_manager(), self.manager)
        import comm

        self.assertTrue(comm.__file__.startswith(REAL_COMM[-1]))
        self.assertTrue(hasattr(comm, "DummyComm"))

    def test_install_for_an_old_ipykernel_makes_its_comms_on_the_kernel(self):
        ipykernel = types.ModuleType("ipykernel")
        ipykernel.version_info = (6, 17, 0)
        ipykernel_comm = types.ModuleType("ipykernel.comm")
        ipykernel_comm.Comm = KernelComm
        sys.modules.update({"ipykernel": ipykernel, "ipykernel.comm": ipykernel_comm})
        kernel = types.SimpleNamespace(comm_manager=self.manager)
        self.fake_packages()
        self.assertIsNotNone(cellar_comm.install_for(kernel))
        import fake_widgets

        self.assertIs(fake_widgets.registered_with, self.manager)
        self.assertIs(fake_widgets.made.kwargs["kernel"], kernel)

    def test_install_for_a_newer_ipykernel_does_nothing(self):
        ipykernel = types.ModuleType("ipykernel")
        ipykernel.version_info = (6, 29, 5)
        sys.modules["ipykernel"] = ipykernel
        before = list(sys.meta_path)
        self.assertIsNone(cellar_comm.install_for(types.SimpleNamespace(comm_manager=self.manager)))
        self.assertEqual(sys.meta_path, before)


if __name__ == "__main__":
    unittest.main()
