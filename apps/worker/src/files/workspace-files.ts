// One notebook's workspace on this worker's disk: list, read, write, create folders, delete,
// rename — never outside the workspace. The kernel writes here too and may make symlinks that
// point anywhere, so every path is resolved with realpath and refused unless it stays inside.
// The last component is opened with O_NOFOLLOW so a symlink swapped in after the check is not
// followed either.
import { constants, type Stats } from "node:fs";
import { chown, lstat, mkdir, open, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { WorkspaceEntry, WorkspaceFileErrorCode } from "@cellar/protocol";

export class WorkspaceFileError extends Error {
  constructor(
    readonly code: WorkspaceFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface WorkspaceOwner {
  uid: number;
  gid: number;
}

export class WorkspaceFiles {
  /**
   * @param root the workspace directory (created on first use)
   * @param owner who new files and folders belong to: the sandbox user, so the kernel can change
   *   what the browser uploads (the worker itself runs as root)
   */
  constructor(
    private readonly root: string,
    private readonly owner?: WorkspaceOwner,
  ) {}

  async list(rel: string): Promise<WorkspaceEntry[]> {
    const dir = await this.resolveExisting(rel);
    const st = await stat(dir);
    if (!st.isDirectory()) throw new WorkspaceFileError("not_a_directory", `${rel} is not a folder`);
    const names = await readdir(dir);
    const entries: WorkspaceEntry[] = [];
    for (const name of names) {
      // A file the kernel deletes while we list is simply not listed.
      const st = await lstat(path.join(dir, name)).catch(() => null);
      if (st) entries.push(entryOf(joinRel(rel, name), st));
    }
    return entries.sort((a, b) => Number(b.kind === "directory") - Number(a.kind === "directory") || a.name.localeCompare(b.name));
  }

  async read(rel: string, maxBytes: number): Promise<{ content: Buffer; entry: WorkspaceEntry }> {
    const file = await this.resolveExisting(rel);
    const handle = await openNoFollow(file, constants.O_RDONLY, rel);
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new WorkspaceFileError("is_a_directory", `${rel} is a folder`);
      if (!st.isFile()) throw new WorkspaceFileError("failed", `${rel} is not a regular file`);
      if (st.size > maxBytes) throw new WorkspaceFileError("too_large", `${rel} is ${st.size} bytes, over the limit of ${maxBytes}`);
      const content = await handle.readFile();
      return { content, entry: entryOf(rel, st) };
    } finally {
      await handle.close();
    }
  }

  async write(rel: string, content: Uint8Array, opts: { createOnly?: boolean } = {}): Promise<WorkspaceEntry> {
    const file = await this.resolveForCreate(rel);
    const existing = await lstat(file).catch(() => null);
    if (existing?.isDirectory()) throw new WorkspaceFileError("is_a_directory", `${rel} is a folder`);
    if (existing && opts.createOnly) throw new WorkspaceFileError("exists", `${rel} already exists`);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (opts.createOnly ? constants.O_EXCL : 0);
    const handle = await openNoFollow(file, flags, rel);
    try {
      await handle.writeFile(content);
      if (!existing) await this.giveToOwner(file);
      return entryOf(rel, await handle.stat());
    } finally {
      await handle.close();
    }
  }

  async mkdir(rel: string): Promise<WorkspaceEntry> {
    const dir = await this.resolveForCreate(rel);
    try {
      await mkdir(dir);
    } catch (err) {
      if (errno(err) === "EEXIST") throw new WorkspaceFileError("exists", `${rel} already exists`);
      throw err;
    }
    await this.giveToOwner(dir);
    return entryOf(rel, await lstat(dir));
  }

  /** Deletes a file, a symlink (not what it points to) or a folder with everything in it. */
  async remove(rel: string): Promise<void> {
    const target = await this.resolveForCreate(rel);
    if (!(await lstat(target).catch(() => null))) throw new WorkspaceFileError("not_found", `${rel} does not exist`);
    await rm(target, { recursive: true, force: false });
  }

  async rename(from: string, to: string): Promise<WorkspaceEntry> {
    const source = await this.resolveForCreate(from);
    const target = await this.resolveForCreate(to);
    if (!(await lstat(source).catch(() => null))) throw new WorkspaceFileError("not_found", `${from} does not exist`);
    if (await lstat(target).catch(() => null)) throw new WorkspaceFileError("exists", `${to} already exists`);
    if (target === source || target.startsWith(source + path.sep)) {
      throw new WorkspaceFileError("invalid_path", `cannot move ${from} into itself`);
    }
    await rename(source, target);
    return entryOf(to, await lstat(target));
  }

  /** The workspace's real path, created if this notebook has never had a kernel here. */
  private async realRoot(): Promise<string> {
    try {
      return await realpath(this.root);
    } catch (err) {
      if (errno(err) !== "ENOENT") throw err;
      await mkdir(this.root, { recursive: true });
      await this.giveToOwner(this.root);
      return realpath(this.root);
    }
  }

  /** An existing path, symlinks followed, refused unless it ends up inside the workspace. */
  private async resolveExisting(rel: string): Promise<string> {
    const root = await this.realRoot();
    let real: string;
    try {
      real = await realpath(path.join(root, rel));
    } catch (err) {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR")
        throw new WorkspaceFileError("not_found", `${rel || "the workspace"} does not exist`);
      throw err;
    }
    return inside(root, real, rel);
  }

  /** A path whose last component is taken as is (it may not exist yet, or be a symlink to act on
   * itself); its folder must exist and resolve inside the workspace. */
  private async resolveForCreate(rel: string): Promise<string> {
    if (!rel) throw new WorkspaceFileError("invalid_path", "the workspace itself cannot be changed");
    const parent = await this.resolveExisting(path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel));
    if (!(await stat(parent)).isDirectory()) throw new WorkspaceFileError("not_a_directory", `${path.posix.dirname(rel)} is not a folder`);
    return path.join(parent, path.posix.basename(rel));
  }

  private async giveToOwner(p: string): Promise<void> {
    if (this.owner) await chown(p, this.owner.uid, this.owner.gid);
  }
}

function inside(root: string, real: string, rel: string): string {
  if (real === root || real.startsWith(root + path.sep)) return real;
  throw new WorkspaceFileError("outside_workspace", `${rel} points outside the workspace`);
}

async function openNoFollow(file: string, flags: number, rel: string) {
  try {
    return await open(file, flags | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    const code = errno(err);
    if (code === "ELOOP") throw new WorkspaceFileError("outside_workspace", `${rel} is a symlink that cannot be followed here`);
    if (code === "ENOENT") throw new WorkspaceFileError("not_found", `${rel} does not exist`);
    if (code === "EEXIST") throw new WorkspaceFileError("exists", `${rel} already exists`);
    if (code === "EISDIR") throw new WorkspaceFileError("is_a_directory", `${rel} is a folder`);
    throw err;
  }
}

function entryOf(rel: string, st: Stats): WorkspaceEntry {
  const kind = st.isDirectory() ? "directory" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
  return { name: path.posix.basename(rel), path: rel, kind, size: st.size, modifiedMs: Math.round(st.mtimeMs) };
}

const joinRel = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
const errno = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;
