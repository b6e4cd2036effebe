import { z } from 'zod';
import { INT4_MAX, labels, timestamp } from './fields';

export const newConcurrencyRule = z.strictObject({
  match: labels
    .refine((m) => Object.keys(m).length > 0, 'match at least one label')
    .describe('the rule applies to the jobs whose labels include every one of these'),
  max: z.number().int().min(1).max(INT4_MAX).describe('at most this many of those jobs run at once; the others wait, in arrival order, holding no runner'),
});
export type NewConcurrencyRule = z.infer<typeof newConcurrencyRule>;

export const concurrencyRuleView = z.object({
  uuid: z.uuid(),
  project: z.string(),
  match: z.record(z.string(), z.string()),
  max: z.number(),
  created: timestamp,
});
export type ConcurrencyRuleView = z.infer<typeof concurrencyRuleView>;
