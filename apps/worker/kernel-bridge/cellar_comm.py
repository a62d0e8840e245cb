"""Points the `comm` package at the bridge's kernel whenever it is imported.

ipywidgets 8 (and anything else built on `comm`) makes its comms with `comm.create_comm` and
registers its targets through `comm.get_comm_manager()`. The package's own versions make dummy
comms that send nothing and a manager no kernel reads; ipykernel >= 6.18 replaces them when its
kernel starts, but Debian bookworm's 6.17 predates the package. And `comm` is not there when the
bridge starts: it arrives later with a `%pip` layer, in a kernel restored from a warm snapshot of
a bridge that never saw it. So a finder on `sys.meta_path` waits for the import and swaps the
two functions in as soon as the module body has run, before the module that imported it (e.g.
ipywidgets, which registers `jupyter.widget.control` in its own body) goes on.
"""
import importlib.abc
import sys

MODULE = "comm"


def patch(module, create_comm, get_comm_manager):
    module.create_comm = create_comm
    module.get_comm_manager = get_comm_manager


class _PatchingLoader(importlib.abc.Loader):
    """The real loader, with the patch after its exec_module. Anything else (resource readers,
    get_source, is_package) is the real loader's."""

    def __init__(self, loader, after):
        self._loader = loader
        self._after = after

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._after(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class CommImportHook(importlib.abc.MetaPathFinder):
    """Finds `comm` with the finders after it, and patches the module once it has run."""

    def __init__(self, create_comm, get_comm_manager):
        self.create_comm = create_comm
        self.get_comm_manager = get_comm_manager

    def apply(self, module):
        patch(module, self.create_comm, self.get_comm_manager)

    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader, self.apply)
        return spec


def install(create_comm, get_comm_manager):
    """Patches `comm` now if it is imported already, and at every later import (a reload, or a
    module deleted from sys.modules and imported again). Returns the hook."""
    hook = CommImportHook(create_comm, get_comm_manager)
    sys.meta_path.insert(0, hook)
    if MODULE in sys.modules:
        hook.apply(sys.modules[MODULE])
    return hook


def install_for(kernel):
    """The hook for ipykernel < 6.18: its own Comm class on `kernel`, and the kernel's comm
    manager (later ipykernels do this themselves, so nothing is installed for them)."""
    import ipykernel

    if getattr(ipykernel, "version_info", (0,)) >= (6, 18):
        return None
    from ipykernel.comm import Comm

    def create_comm(*args, **kwargs):
        kwargs.setdefault("kernel", kernel)
        return Comm(*args, **kwargs)

    return install(create_comm, lambda: kernel.comm_manager)
