#!/usr/bin/env bash
# scripts/gpu-check.sh: what Cellar's GPU kernels need, checked on a machine with an NVIDIA GPU
# (development and CI machines have none; issue 15). Prints one pass/fail/skip row per check:
#   host GPU          nvidia-smi on the host: model, memory, driver
#   isolation         which sandbox the worker would give a GPU kernel (runsc's nvproxy range, crun)
#   sandbox spec      the worker's own OCI additions for GPU 0 (apps/worker/src/sandbox/gpu-spec.ts)
#   sandbox smi       nvidia-smi inside that sandbox (needs runsc or crun and root; skipped, with
#                     the reason, where the machine is itself a sandbox or has neither)
#   cuda              torch.cuda.is_available()
#   matmul            a 4096² float32 product on the GPU against the same on the CPU
#   state round trip  CPU → GPU → CPU with the bridge's own state move (cellar_state.py): numpy
#                     arrays and torch tensors written by a CPU process, loaded onto CUDA by a
#                     GPU process that computes on them, and back
# dill is not on every GPU machine: put its wheel's contents on PYTHONPATH (for example
# `pip install --target /tmp/site dill-*.whl && PYTHONPATH=/tmp/site scripts/gpu-check.sh`).
# Exits 1 if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/cellar-gpu-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PY=${PYTHON:-python3}
declare -a ROWS=()
FAILED=0
row() { ROWS+=("$(printf '%-17s %-5s %s' "$1" "$2" "$3")"); [[ $2 == FAIL ]] && FAILED=1; return 0; }

# host GPU
if command -v nvidia-smi >/dev/null && smi=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1); then
  row "host GPU" pass "$(head -1 <<<"$smi")"
  DRIVER=$(head -1 <<<"$smi" | awk -F', ' '{print $3}')
else
  row "host GPU" FAIL "nvidia-smi: ${smi:-not installed}"
  DRIVER=""
fi

# isolation: nvproxy only for the driver versions the installed runsc knows (the worker's table).
RUNSC_VERSION=$(runsc --version 2>/dev/null | head -1 || true)
ISOLATION=none
if [[ -n $DRIVER ]] && command -v node >/dev/null; then
  ISOLATION=$(cd "$ROOT" && node --import tsx -e "
    const m = await import('./apps/worker/src/gpus/gpu-isolation.ts');
    const r = m.gpuIsolationFor({
      gpus: [{ index: 0, model: 'GPU', memoryBytes: 0, driver: process.argv[1], source: 'nvidia-smi' }],
      runscVersion: process.argv[2] || null,
      crunVersion: process.argv[3] || null,
    });
    console.log((r?.isolation ?? 'none') + ': ' + (r?.note ?? ''));
  " "$DRIVER" "$RUNSC_VERSION" "$(crun --version 2>/dev/null | head -1)" 2>&1 | tail -1)
fi
row isolation "$([[ $ISOLATION == gvisor-nvproxy:* || $ISOLATION == crun-passthrough:* ]] && echo pass || echo skip)" \
  "${ISOLATION} (runsc: ${RUNSC_VERSION:-not installed}; driver ${DRIVER:-?})"

# sandbox spec, from the worker's code, for GPU 0 over the host's root (read-only)
SPEC_OK=no
if command -v node >/dev/null && [[ -e /dev/nvidiactl ]]; then
  mkdir -p "$WORK/bundle" "$WORK/ws"
  if out=$(cd "$ROOT" && node --import tsx -e "
      const fs = await import('node:fs');
      const { execFileSync } = await import('node:child_process');
      const { buildOciConfig } = await import('./apps/worker/src/sandbox/bundle.ts');
      const g = await import('./apps/worker/src/sandbox/gpu-spec.ts');
      const libs = g.driverLibrariesFromLdconfig(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }));
      let smi; try { smi = execFileSync('sh', ['-c', 'command -v nvidia-smi'], { encoding: 'utf8' }).trim(); } catch {}
      const base = buildOciConfig({ sessionId: 'gpucheck', imageRootfs: '/', workspaceDir: '$WORK/ws', limits: { memoryBytes: 64 * 2 ** 30, pids: 4096 } });
      const spec = g.withGpu(base, { isolation: 'crun-passthrough', devices: g.hostDevices(g.gpuDevicePaths([0])), libraries: libs, nvidiaSmi: smi, gpus: [0] });
      spec.process.args = ['sh', '-c', 'nvidia-smi -L'];
      spec.process.user = { uid: 0, gid: 0 };
      spec.mounts = spec.mounts.filter((m) => m.destination !== '/opt/cellar/bridge');
      fs.writeFileSync('$WORK/bundle/config.json', JSON.stringify(spec, null, 2));
      // crun gets the walls the worker gives its kernels: user namespace, seccomp, no capabilities.
      const c = await import('./apps/worker/src/sandbox/crun-spec.ts');
      fs.mkdirSync('$WORK/bundle-crun', { recursive: true });
      fs.writeFileSync('$WORK/bundle-crun/config.json', JSON.stringify(c.forCrun({ ...spec, process: { ...spec.process, user: { uid: 1000, gid: 1000 } } }, { uid: 1000, gid: 1000 }, c.loadSeccompProfile()), null, 2));
      console.log(spec.linux.devices.map((d) => d.path).join(' ') + '; ' + libs.length + ' driver libraries');
    " 2>&1); then
    row "sandbox spec" pass "$(tail -1 <<<"$out")"
    SPEC_OK=yes
  else
    row "sandbox spec" FAIL "$(tail -1 <<<"$out")"
  fi
else
  row "sandbox spec" skip "needs node and /dev/nvidiactl"
fi

# nvidia-smi inside the sandbox
if [[ $SPEC_OK == yes ]]; then
  if [[ $(uname -r) == 4.4.0 ]]; then
    row "sandbox smi" skip "this machine is itself a gVisor sandbox (kernel 4.4.0): no nested sandbox"
  elif [[ $ISOLATION == gvisor-nvproxy:* ]]; then
    out=$(timeout 120 runsc --root="$WORK/runsc" --network=none --ignore-cgroups --nvproxy run --bundle="$WORK/bundle" gpucheck 2>&1)
    [[ $out == *GPU\ 0* ]] && row "sandbox smi" pass "runsc --nvproxy: $(head -1 <<<"$out")" || row "sandbox smi" FAIL "runsc --nvproxy: $(tail -1 <<<"$out")"
  elif command -v crun >/dev/null; then
    out=$(timeout 120 crun --root="$WORK/crun" --cgroup-manager=disabled run --bundle="$WORK/bundle-crun" gpucheck 2>&1)
    [[ $out == *GPU\ 0* ]] && row "sandbox smi" pass "crun: $(head -1 <<<"$out")" || row "sandbox smi" FAIL "crun: $(tail -1 <<<"$out")"
  else
    row "sandbox smi" skip "neither runsc with nvproxy for this driver nor crun is installed"
  fi
else
  row "sandbox smi" skip "no sandbox spec"
fi

# cuda and matmul
if out=$($PY - 2>&1 <<'EOF'
import torch
assert torch.cuda.is_available(), "torch.cuda.is_available() is False"
print(torch.cuda.get_device_name(0), "torch", torch.__version__)
EOF
); then row cuda pass "$(tail -1 <<<"$out")"; else row cuda FAIL "$(tail -1 <<<"$out")"; fi

if out=$($PY - 2>&1 <<'EOF'
import time, torch
torch.manual_seed(0)
a = torch.rand(4096, 4096, dtype=torch.float32)
b = torch.rand(4096, 4096, dtype=torch.float32)
cpu = a @ b
torch.backends.cuda.matmul.allow_tf32 = False
t = time.perf_counter(); gpu = (a.cuda() @ b.cuda()); torch.cuda.synchronize(); dt = time.perf_counter() - t
err = float((gpu.cpu() - cpu).abs().max() / cpu.abs().max())
assert err < 1e-4, f"relative difference {err:.2e}"
print(f"max relative difference {err:.1e}, GPU {dt*1000:.0f} ms with the copies")
EOF
); then row matmul pass "$(tail -1 <<<"$out")"; else row matmul FAIL "$(tail -1 <<<"$out")"; fi

# state round trip CPU → GPU → CPU through cellar_state.py
BRIDGE="$ROOT/apps/worker/kernel-bridge"
step() { PYTHONPATH="$BRIDGE${PYTHONPATH:+:$PYTHONPATH}" $PY - "$WORK" 2>&1; }
if out=$(CUDA_VISIBLE_DEVICES="" step <<'EOF'
import sys, numpy as np, torch, cellar_state
ns = {"np": np, "torch": torch, "arr": np.arange(1_000_000, dtype=np.float32), "t": torch.arange(16, dtype=torch.float32).reshape(4, 4)}
r = cellar_state.export(ns, sys.argv[1] + "/m1")
print("exported", len(r["names"]), "names", r["bytes"], "bytes")
EOF
) && out2=$(step <<'EOF'
import sys, cellar_state
ns = {}
r = cellar_state.import_(ns, sys.argv[1] + "/m1", gpu=True)
assert ns["t"].is_cuda, "the tensor did not come back on CUDA"
ns["t2"] = ns["t"] @ ns["t"]
ns["s"] = float(ns["torch"].from_numpy(ns["arr"]).cuda().sum())
r2 = cellar_state.export(ns, sys.argv[1] + "/m2")
print("on", ns["t"].device, "exported", len(r2["names"]))
EOF
) && out3=$(CUDA_VISIBLE_DEVICES="" step <<'EOF'
import sys, numpy as np, torch, cellar_state
ns = {}
cellar_state.import_(ns, sys.argv[1] + "/m2")
t = torch.arange(16, dtype=torch.float32).reshape(4, 4)
assert not ns["t2"].is_cuda and torch.equal(ns["t2"], t @ t), "t2 is wrong after the round trip"
assert abs(ns["s"] - float(np.arange(1_000_000, dtype=np.float32).sum())) < 1e3, "s is wrong"
print("back on", ns["t2"].device, "t2 and s match the CPU")
EOF
); then
  row "state round trip" pass "$(tail -1 <<<"$out") → $(tail -1 <<<"$out2") → $(tail -1 <<<"$out3")"
else
  row "state round trip" FAIL "$(tail -1 <<<"${out3:-${out2:-$out}}")"
fi

printf '%-17s %-5s %s\n' check result detail
printf '%s\n' "${ROWS[@]}"
exit $FAILED
