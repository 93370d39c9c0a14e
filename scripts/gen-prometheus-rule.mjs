#!/usr/bin/env node
// Writes k8s/base/prometheusrule.yaml from deploy/prometheus/alerts.yml, so the
// Prometheus Operator on Kubernetes evaluates the same alerting rules as the
// compose stack's Prometheus. Run after editing alerts.yml:
//
//   node scripts/gen-prometheus-rule.mjs
//
// tests/deploy/k8s.test.ts fails while the two disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';

const source = new URL('../deploy/prometheus/alerts.yml', import.meta.url);
const target = new URL('../k8s/base/prometheusrule.yaml', import.meta.url);

const { groups } = YAML.parse(readFileSync(source, 'utf8'));
if (!Array.isArray(groups) || groups.length === 0) {
  console.error('deploy/prometheus/alerts.yml has no rule groups');
  process.exit(1);
}
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'driftstream',
    labels: { 'app.kubernetes.io/name': 'driftstream', release: 'prometheus' },
  },
  spec: { groups },
};
const header = [
  '# Generated from deploy/prometheus/alerts.yml by `node scripts/gen-prometheus-rule.mjs`;',
  '# edit alerts.yml and rerun. kube-prometheus-stack selects rules by the release label.',
  '',
].join('\n');
writeFileSync(target, header + YAML.stringify(rule, { lineWidth: 0 }));
console.log(`wrote k8s/base/prometheusrule.yaml (${groups.length} groups)`);
