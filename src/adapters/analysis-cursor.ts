import { ValidationError } from '../errors.js';

/** Where a page of analyses ended: the last one's creation time and id (the list's order). */
export interface AnalysisCursor {
  createdAt: number;
  analysisId: string;
}

export function encodeAnalysisCursor(a: AnalysisCursor): string {
  return Buffer.from(JSON.stringify([a.createdAt, a.analysisId])).toString('base64url');
}

/** Throws a ValidationError (code `INVALID_CURSOR`) on a cursor no page gave out. */
export function decodeAnalysisCursor(cursor: string): AnalysisCursor {
  try {
    const [createdAt, analysisId] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'number' && Number.isFinite(createdAt) && typeof analysisId === 'string') return { createdAt, analysisId };
  } catch {
    // Falls through to the error below.
  }
  throw new ValidationError('cursor: not a cursor this list gave out', { code: 'INVALID_CURSOR' });
}
