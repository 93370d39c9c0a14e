import { fail, isObject, number } from './config-checks.js';

/** A model's `multivariate` block, with defaults filled in (docs/detector.md, "Multivariate drift"). */
export interface MultivariateConfig {
  /** Whether windows are judged on the reconstruction error of the numeric features. Default false. */
  readonly enabled: boolean;
  /**
   * Share of the standardized numeric features' variance the principal
   * components kept at reference build explain (the rest is what the
   * reconstruction error measures). Read when a reference is built. Default 0.65.
   */
  readonly varianceShare: number;
  /**
   * Floors on the relative rise of the window's mean reconstruction error
   * over the reference's (0.1 is a tenth more error): WARNING and CRITICAL.
   * Defaults 0.1 and 0.5.
   */
  readonly floor: { readonly warning: number; readonly critical: number };
}

export const DEFAULT_MULTIVARIATE_CONFIG: MultivariateConfig = Object.freeze({
  enabled: false,
  varianceShare: 0.65,
  floor: Object.freeze({ warning: 0.1, critical: 0.5 }),
});

const KEYS = ['enabled', 'varianceShare', 'floor'];

function parseFloor(v: unknown): MultivariateConfig['floor'] {
  const base = DEFAULT_MULTIVARIATE_CONFIG.floor;
  if (v === undefined) return base;
  if (!isObject(v)) fail('multivariate.floor', 'expected an object {warning?, critical?}');
  for (const k of Object.keys(v)) if (k !== 'warning' && k !== 'critical') fail(`multivariate.floor.${k}`, 'unknown field (expected one of warning, critical)');
  const warning = v.warning === undefined ? base.warning : number('multivariate.floor.warning', v.warning, 0, 1000);
  const critical = v.critical === undefined ? Math.max(base.critical, warning) : number('multivariate.floor.critical', v.critical, 0, 1000);
  if (critical < warning) fail('multivariate.floor.critical', 'must not be below the warning level');
  return Object.freeze({ warning, critical });
}

/**
 * Validates a model's `multivariate` block: `{enabled?, varianceShare?, floor?: {warning?, critical?}}`.
 * Errors name the field (`multivariate.varianceShare: ...`).
 */
export function parseMultivariateConfig(v: unknown): MultivariateConfig {
  if (v === undefined) return DEFAULT_MULTIVARIATE_CONFIG;
  if (!isObject(v)) fail('multivariate', 'expected an object {enabled?, varianceShare?, floor?}');
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) fail(`multivariate.${k}`, `unknown field (expected one of ${KEYS.join(', ')})`);
  if (v.enabled !== undefined && typeof v.enabled !== 'boolean') fail('multivariate.enabled', `expected true or false, got ${JSON.stringify(v.enabled)}`);
  return Object.freeze({
    enabled: (v.enabled as boolean | undefined) ?? DEFAULT_MULTIVARIATE_CONFIG.enabled,
    varianceShare: v.varianceShare === undefined ? DEFAULT_MULTIVARIATE_CONFIG.varianceShare : number('multivariate.varianceShare', v.varianceShare, 0.01, 0.99),
    floor: parseFloor(v.floor),
  });
}

/** The JSON form of a multivariate block (what {@link parseMultivariateConfig} reads back). */
export function multivariateConfigToJson(c: MultivariateConfig): Record<string, unknown> {
  return { enabled: c.enabled, varianceShare: c.varianceShare, floor: { ...c.floor } };
}
