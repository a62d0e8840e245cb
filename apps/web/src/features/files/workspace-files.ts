// Helpers for the workspace files panel and editor; the files themselves come through the
// gateway client (gateway.files in shared/gateway.ts).

/** The file's text if it is UTF-8 without NUL bytes (what an editor can show), else null. */
export function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

export const joinPath = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
export const parentOf = (path: string) => path.split("/").slice(0, -1).join("/");
