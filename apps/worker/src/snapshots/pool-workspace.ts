// Handing a pool kernel the notebook's workspace. The kernel was restored with an empty slot
// folder bound at /workspace; gVisor's gofer holds that folder open, so what the kernel sees
// follows the folder's inode, not its path. Moving the notebook's files into the slot and then
// renaming the slot to the notebook's workspace path gives the kernel the notebook's files and
// leaves the host (files panel, later sessions) looking at the same folder by its usual path.
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import path from "node:path";

/**
 * Moves every entry of `workspaceDir` into `slotDir`, then renames `slotDir` to `workspaceDir`
 * (replacing the emptied folder). Only renames, so both must be on one filesystem. On failure
 * (e.g. a file appeared in the workspace meanwhile) the moved entries go back and it throws:
 * nothing is lost, and the caller starts the session another way.
 */
export async function adoptWorkspace(slotDir: string, workspaceDir: string): Promise<void> {
  await mkdir(workspaceDir, { recursive: true });
  const moved: string[] = [];
  try {
    for (const name of await readdir(workspaceDir)) {
      await rename(path.join(workspaceDir, name), path.join(slotDir, name));
      moved.push(name);
    }
    await rename(slotDir, workspaceDir);
  } catch (err) {
    for (const name of moved.reverse()) {
      await rename(path.join(slotDir, name), path.join(workspaceDir, name)).catch((e) => {
        throw new Error(`${(err as Error).message}; and moving ${name} back from ${slotDir} failed: ${(e as Error).message}`);
      });
    }
    throw err;
  }
}

export async function sameFilesystem(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  return sa.dev === sb.dev;
}
