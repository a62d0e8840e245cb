// jsdom does no layout: Range has no client rects. CodeMirror measures text with them, so give it
// empty ones (everything at 0,0) instead of letting each measurement throw.
if (typeof Range !== "undefined" && !Range.prototype.getClientRects) {
  const empty = () => ({ x: 0, y: 0, top: 0, left: 0, right: 0, bottom: 0, width: 0, height: 0, toJSON() {} });
  Range.prototype.getClientRects = () => Object.assign([], { item: () => null }) as unknown as DOMRectList;
  Range.prototype.getBoundingClientRect = () => empty() as DOMRect;
}
