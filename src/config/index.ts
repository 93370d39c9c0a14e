export { loadConfig, redactUrl, type Config, type KafkaConfig, type Role } from './config.js';
export { CONFIG_SPEC, type VarSpec } from './spec.js';
