// nbformat 4 as it is written to disk. Multiline strings may be one string or a list of lines
// (Jupyter writes lists); everything inside Cellar uses single strings.
export type MultilineString = string | string[];

export type IpynbMimeBundle = Record<string, unknown>;

export type IpynbOutput =
  | { output_type: "stream"; name: string; text: MultilineString }
  | { output_type: "display_data"; data: IpynbMimeBundle; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; data: IpynbMimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

interface IpynbCellBase {
  /** Required from nbformat 4.5 on, absent before. */
  id?: string;
  metadata: Record<string, unknown>;
  source: MultilineString;
}

export interface IpynbCodeCell extends IpynbCellBase {
  cell_type: "code";
  outputs: IpynbOutput[];
  execution_count: number | null;
}

export interface IpynbTextCell extends IpynbCellBase {
  cell_type: "markdown" | "raw";
  attachments?: Record<string, IpynbMimeBundle>;
}

export type IpynbCell = IpynbCodeCell | IpynbTextCell;

export interface IpynbNotebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: IpynbCell[];
}

/** The newest nbformat 4 minor version whose schema we ship; notebooks made in Cellar use it. */
export const LATEST_MINOR = 5;
