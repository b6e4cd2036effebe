import { jobGates, type ConcurrencyRule } from '../../common/tiers';

describe('jobGates', () => {
  const rules: ConcurrencyRule[] = [
    { id: 'r-db', match: { suite: 'db' }, max: 2 },
    { id: 'r-db-large', match: { suite: 'db', size: 'large' }, max: 1 },
  ];
  const job = (tier: 'paid' | 'free', labels: Record<string, string>) => ({ tier, organization_id: 'org', source_ip: '10.0.0.1', labels });

  it('gives a paid unlabelled job no gate, so it dispatches without any permit', () => {
    expect(jobGates(job('paid', {}), 'control', rules)).toEqual([]);
  });

  it('adds a gate per rule whose every pair the labels include, after the tier gate', () => {
    expect(jobGates(job('free', { suite: 'db', size: 'large', extra: 'x' }), 'control', rules)).toEqual([
      { id: 'control/gate-org-org', permits: 1 },
      { id: 'control/rule-r-db', permits: 2, rule: 'r-db' },
      { id: 'control/rule-r-db-large', permits: 1, rule: 'r-db-large' },
    ]);
    expect(jobGates(job('paid', { suite: 'db', size: 'small' }), 'control', rules)).toEqual([{ id: 'control/rule-r-db', permits: 2, rule: 'r-db' }]);
    expect(jobGates(job('paid', { size: 'large' }), 'control', rules)).toEqual([]);
  });
});
