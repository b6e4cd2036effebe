import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');

/** action.yml is only read by GitHub: these are the mistakes no other test would see. */
describe('action.yml', () => {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8'));
  const inputs = Object.keys(action.inputs as Record<string, unknown>);
  const step = (action.runs.steps as Array<{ id?: string; env?: Record<string, string>; run: string }>).find((s) => s.id === 'benchline')!;

  it('a composite action whose run step passes every input, as action/main.ts reads it', () => {
    expect(action.runs.using).toBe('composite');
    expect(step.run).toContain('$GITHUB_ACTION_PATH/bin/benchline-action');
    expect(Object.keys(step.env!).sort()).toEqual(inputs.map((n) => `INPUT_${n.toUpperCase().replace(/-/g, '_')}`).sort());
    for (const name of inputs) expect(step.env![`INPUT_${name.toUpperCase().replace(/-/g, '_')}`]).toBe(`\${{ inputs.${name} }}`);
    const read = [...readFileSync(join(ROOT, 'action', 'main.ts'), 'utf8').matchAll(/\b(?:input|flag|required)\('([a-z-]+)'/g)].map((m) => m[1]);
    expect([...new Set(read)].sort()).toEqual([...inputs].sort());
  });

  it('its outputs are the ones main.ts writes', () => {
    for (const [name, output] of Object.entries(action.outputs as Record<string, { value: string }>)) expect(output.value).toBe(`\${{ steps.benchline.outputs.${name} }}`);
    expect(Object.keys(action.outputs).sort()).toEqual(['alerts', 'pipeline', 'report']);
  });
});
