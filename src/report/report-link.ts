/**
 * The API path of the report of the evaluation an alert (or any window) is
 * about: its window, at the window's end, so the link keeps showing that
 * evaluation however many windows come after it. Prefix the service's URL.
 */
export function reportPathOf(w: { readonly modelId: string; readonly windowName: string; readonly windowEnd?: number }): string {
  const at = w.windowEnd === undefined ? '' : `&at=${w.windowEnd}`;
  return `/api/v1/models/${encodeURIComponent(w.modelId)}/report?window=${encodeURIComponent(w.windowName)}${at}`;
}
