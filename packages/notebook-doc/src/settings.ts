// Notebook-wide settings that collaborators see change live: a `settings` Y.Map beside the cells.
// Today one: the notebook's default device. The notebook's saved nbformat metadata keeps it too
// (`metadata.cellar.device`, for export and for notebooks whose document predates the setting):
// the document's value wins once someone has set it there, even to "no default".
import { deviceInMetadata, deviceRequestSchema, withDeviceInMetadata, type DeviceRequest } from "@cellar/protocol";
import type * as Y from "yjs";

const DEVICE_KEY = "device";

export function settingsMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap("settings");
}

/** The default device as the document holds it: a device, null for "no default" (CPU unless a
 * cell asks), or undefined when the document has never been given one. */
export function docNotebookDevice(doc: Y.Doc): DeviceRequest | null | undefined {
  const settings = settingsMap(doc);
  if (!settings.has(DEVICE_KEY)) return undefined;
  const value = settings.get(DEVICE_KEY);
  if (value === null) return null;
  const parsed = deviceRequestSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Sets the notebook's default device; null: no default. */
export function setNotebookDevice(doc: Y.Doc, device: DeviceRequest | null, origin?: unknown): void {
  doc.transact(() => settingsMap(doc).set(DEVICE_KEY, device ? { ...device } : null), origin);
}

/** The notebook's default device: the document's, else what its saved metadata says. */
export function notebookDevice(doc: Y.Doc, savedMetadata: Record<string, unknown> | undefined): DeviceRequest | undefined {
  const live = docNotebookDevice(doc);
  return live === undefined ? deviceInMetadata(savedMetadata) : (live ?? undefined);
}

/** The notebook's nbformat metadata with the document's settings written in (what a write-back
 * stores and an export carries); unchanged when the document has none. */
export function metadataWithSettings(metadata: Record<string, unknown> | undefined, doc: Y.Doc): Record<string, unknown> {
  const live = docNotebookDevice(doc);
  if (live === undefined) return metadata ?? {};
  return withDeviceInMetadata(metadata, live ?? undefined);
}

/** Seeds a new document's settings from the notebook's saved metadata. Run inside a transaction. */
export function seedSettings(doc: Y.Doc, metadata: Record<string, unknown> | undefined): void {
  const device = deviceInMetadata(metadata);
  if (device) settingsMap(doc).set(DEVICE_KEY, { ...device });
}
