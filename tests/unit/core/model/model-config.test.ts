import { describe, expect, it } from 'vitest';
import { modelConfigToJson, parseModelConfig } from '../../../../src/core/model/model-config.js';
import { paneLengthOf } from '../../../../src/core/windows/window-spec.js';
import { parseModelsFile } from '../../../../src/config/models-file.js';
import { ValidationError } from '../../../../src/errors.js';

function errorOf(input: unknown): string {
  try {
    parseModelConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('parseModelConfig', () => {
  it('fills every default from a bare modelId', () => {
    const m = parseModelConfig({ modelId: 'credit-risk' });
    expect(m.features).toEqual({});
    expect(m.prediction).toBe('score');
    expect(m.positiveClass).toBe('1');
    expect(m.windows).toEqual([
      { name: '1m', sizeMs: 60_000, slideMs: 60_000 },
      { name: '1h', sizeMs: 3_600_000, slideMs: 300_000 },
    ]);
    expect(m.allowedLatenessMs).toBe(30_000);
    expect(m.minSamples).toBe(100);
    expect(m.reference.bootstrapEvents).toBe(5000);
    expect(m.resolveAfter).toBe(3);
    expect(m.dataQuality.enabled).toBe(true);
    expect(Object.isFrozen(m)).toBe(true);
  });

  it('reads the example of DESIGN.md section 3', () => {
    const m = parseModelConfig({
      modelId: 'credit-risk',
      features: { age: 'numeric', income: 'numeric', region: 'categorical' },
      prediction: 'score',
      positiveClass: '1',
      windows: [{ name: '1m', size: '1m' }, { name: '1h', size: '1h', slide: '5m' }],
      allowedLateness: '30s',
      minSamples: 100,
      thresholds: { psi: { warning: 0.1, critical: 0.25 } },
      featureThresholds: { age: { psi: { warning: 0.2, critical: 0.4 } } },
      reference: { bootstrapEvents: 5000 },
    });
    expect(m.features.region).toBe('categorical');
    expect(m.featureThresholds.age).toEqual({ psi: { warning: 0.2, critical: 0.4 } });
    expect(paneLengthOf(m.windows)).toBe(60_000);
  });

  it('round-trips through its JSON form', () => {
    const m = parseModelConfig({ modelId: 'a', features: { x: 'numeric' }, windows: [{ name: 'w', size: '30s', slide: '10s' }], allowedLateness: '2s' });
    expect(parseModelConfig(modelConfigToJson(m))).toEqual(m);
  });

  it.each([
    [{}, /^modelId: /],
    [{ modelId: '' }, /^modelId: /],
    [{ modelId: 'a', features: { x: 'float' } }, /^features\.x: expected "numeric" or "categorical"/],
    [{ modelId: 'a', features: { score: 'numeric' } }, /^features\.score: .*reserved/],
    [{ modelId: 'a', prediction: 'probability' }, /^prediction: /],
    [{ modelId: 'a', windows: [] }, /^windows: /],
    [{ modelId: 'a', windows: [{ name: 'w', size: 'soon' }] }, /^windows\[0\]\.size: expected a duration/],
    [{ modelId: 'a', windows: [{ name: 'w', size: '1h', slide: '7m' }] }, /^windows\[0\]\.slide: size 1h must be a whole multiple of slide 7m/],
    [{ modelId: 'a', windows: [{ name: 'w', size: '1m', slide: '5m' }] }, /^windows\[0\]\.slide: must not be longer than size/],
    [{ modelId: 'a', windows: [{ name: 'w', size: '1m' }, { name: 'w', size: '5m' }] }, /^windows\[1\]\.name: duplicate/],
    [{ modelId: 'a', allowedLateness: -1 }, /^allowedLateness: /],
    [{ modelId: 'a', minSamples: 0 }, /^minSamples: /],
    [{ modelId: 'a', thresholds: { psy: {} } }, /^thresholds\.psy: unknown statistic/],
    [{ modelId: 'a', thresholds: { psi: { warning: 'high' } } }, /^thresholds\.psi\.warning: expected a number/],
    [{ modelId: 'a', thresholds: { psi: { warning: 0.3, critical: 0.1 } } }, /^thresholds\.psi\.critical: must not be below/],
    [{ modelId: 'a', thresholds: { ks: { warning: 0.001, critical: 0.05 } } }, /^thresholds\.ks\.critical: a p-value level/],
    [{ modelId: 'a', features: { x: 'numeric' }, featureThresholds: { z: {} } }, /^featureThresholds\.z: is not a declared feature/],
    [{ modelId: 'a', dataQuality: { outOfRange: { warning: 2 } } }, /^dataQuality\.outOfRange\.warning: expected a number between 0 and 1/],
    [{ modelId: 'a', reference: { bootstrapEvents: 1 } }, /^reference\.bootstrapEvents: /],
    [{ modelId: 'a', colour: 'red' }, /^colour: unknown field/],
  ])('rejects %j naming the field', (input, pattern) => {
    expect(errorOf(input)).toMatch(pattern);
  });

  it('takes its environment defaults from the caller', () => {
    const m = parseModelConfig({ modelId: 'a' }, { allowedLatenessMs: 5000, bootstrapEvents: 100, bootstrapDurationMs: 1000, resolveAfter: 1 });
    expect(m.allowedLatenessMs).toBe(5000);
    expect(m.reference.bootstrapEvents).toBe(100);
    expect(m.resolveAfter).toBe(1);
  });
});

describe('parseModelsFile', () => {
  it('reads YAML', () => {
    const models = parseModelsFile(`
models:
  - modelId: credit-risk
    features:
      age: numeric
      region: categorical
    windows:
      - { name: 10s, size: 10s }
    allowedLateness: 2s
  - modelId: churn
`);
    expect(models.map((m) => m.modelId)).toEqual(['credit-risk', 'churn']);
    expect(models[0].windows[0].sizeMs).toBe(10_000);
  });

  it('reads JSON', () => {
    expect(parseModelsFile('{"models": [{"modelId": "a"}]}')[0].modelId).toBe('a');
  });

  it('names the file and the model in errors', () => {
    expect(() => parseModelsFile('models:\n  - modelId: a\n  - modelId: b\n    minSamples: -3\n', 'models.yaml')).toThrow(
      /^models\.yaml: models\[1\] \(b\): minSamples: /,
    );
    expect(() => parseModelsFile('models: [{modelId: a}, {modelId: a}]', 'f')).toThrow(/duplicate model/);
    expect(() => parseModelsFile('just text', 'f')).toThrow(/expected \{"models": \[...\]\}/);
    expect(() => parseModelsFile('models: [', 'f')).toThrow(/not valid YAML or JSON/);
  });
});
