import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { seededApp } from './fixtures.js';
import { MemoryAnalysisRepository } from '../../../src/adapters/memory/memory-analysis-repository.js';

describe('OpenAPI', () => {
  it('serves a valid OpenAPI 3 document at /openapi.json covering every API route', async () => {
    const { app } = await seededApp({ analyses: new MemoryAnalysisRepository() });
    const r = await app.inject({ url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences in place: give it a copy and keep the original for the checks below.
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    const paths = Object.keys(doc.paths).sort();
    expect(paths).toEqual(
      [
        '/api/v1/alerts',
        '/api/v1/models',
        '/api/v1/models/{modelId}',
        '/api/v1/models/{modelId}/analyses',
        '/api/v1/models/{modelId}/analyses/{analysisId}',
        '/api/v1/models/{modelId}/analyses/{analysisId}/cancel',
        '/api/v1/models/{modelId}/analyses/{analysisId}/report',
        '/api/v1/models/{modelId}/analyses/{analysisId}/windows',
        '/api/v1/models/{modelId}/drift',
        '/api/v1/models/{modelId}/features/{feature}',
        '/api/v1/models/{modelId}/history',
        '/api/v1/models/{modelId}/performance',
        '/api/v1/models/{modelId}/reference',
        '/api/v1/models/{modelId}/report',
        '/api/v1/models/{modelId}/windows',
        '/healthz',
        '/metrics',
        '/readyz',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/api/v1/models/{modelId}']).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Evaluation', 'FeatureResult', 'Alert', 'Model', 'ModelConfig']));
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(doc.paths['/api/v1/models/{modelId}/drift'].get.responses['404'] ?? doc.paths['/api/v1/models/{modelId}/drift'].get.responses['4XX']).toBeTruthy();
  });

  it('serves the API explorer at /docs from local assets', async () => {
    const { app } = await seededApp();
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs|fonts)\./);
    const bundle = await app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body.length).toBeGreaterThan(100_000);
  });
});
