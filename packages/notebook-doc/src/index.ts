export {
  applyCells,
  cellsMap,
  cellText,
  deleteCell,
  docTitle,
  fromNotebook,
  insertCell,
  metaMap,
  moveCell,
  setCellType,
  setSource,
  setTitle,
  toCells,
  type DocCell,
  type NewCell,
  type Placement,
} from "./doc";
export { docNotebookDevice, metadataWithSettings, notebookDevice, setNotebookDevice, settingsMap } from "./settings";
export { DocumentOfflineError, DocumentProvider, FROM_GATEWAY, type DocumentSocket } from "./provider";
export { type AwarenessChange, encodeWith } from "./sync-encoding";
