import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../errors.js';
import { DEFAULT_MODEL_DEFAULTS, parseModelConfig, type ModelConfig, type ModelDefaults } from '../core/model/model-config.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a models file: YAML or JSON holding `{"models": [...]}` (a bare list
 * is accepted too). Errors name the file and the model's index or id.
 */
export function parseModelsFile(text: string, source = 'models file', defaults: ModelDefaults = DEFAULT_MODEL_DEFAULTS): ModelConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ValidationError(`${source}: not valid YAML or JSON: ${(err as Error).message}`, { code: 'MODEL_INVALID', cause: err });
  }
  const list = Array.isArray(doc) ? doc : isObject(doc) ? doc.models : undefined;
  if (!Array.isArray(list)) throw new ValidationError(`${source}: expected {"models": [...]}`, { code: 'MODEL_INVALID' });
  const seen = new Set<string>();
  return list.map((m, i) => {
    const id = isObject(m) && typeof m.modelId === 'string' ? m.modelId : undefined;
    try {
      const config = parseModelConfig(m, defaults);
      if (seen.has(config.modelId)) throw new ValidationError(`modelId: duplicate model ${JSON.stringify(config.modelId)}`, { code: 'MODEL_INVALID' });
      seen.add(config.modelId);
      return config;
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new ValidationError(`${source}: models[${i}]${id ? ` (${id})` : ''}: ${err.message}`, { code: 'MODEL_INVALID', cause: err });
      }
      throw err;
    }
  });
}
