// What both ends of the document sync (the page's DocumentProvider and the gateway's DocumentHub)
// need around y-protocols: one way to build a message, and the shape of an awareness change.
import * as encoding from "lib0/encoding";

/** y-protocols' awareness "update"/"change" event: which clients' states came, changed or went. */
export interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/** A y-protocols message written by `write`. */
export function encodeWith(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}
