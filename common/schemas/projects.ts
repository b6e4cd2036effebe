import { z } from 'zod';
import { name, resourceRef, slug, timestamp } from './fields';

export const visibility = z.enum(['public', 'private']);

export const newProject = z.strictObject({ name, slug: slug.optional(), visibility: visibility.default('private') });
export const projectUpdate = z.strictObject({ name: name.optional(), slug: slug.optional(), visibility: visibility.optional() });
export const projectView = z.object({
  uuid: z.uuid(),
  slug: z.string(),
  name: z.string(),
  organization: z.string(),
  visibility,
  created: timestamp,
});
/** One project as its own view shows it: with what the caller may do there (the console shows only the actions allowed). */
export const projectDetail = projectView.extend({
  member: z.boolean().describe("whether the caller belongs to the project's organization: members may change its alerts and thresholds"),
});

export const newBranch = z.strictObject({ name, slug: slug.optional() });
export const branchUpdate = z.strictObject({ name: name.optional(), slug: slug.optional() });
export const branchView = z.object({ uuid: z.uuid(), project: z.string(), slug: z.string(), name: z.string(), created: timestamp });

const testbedSpec = resourceRef.nullable().describe("the testbed's current spec (slug or UUID); null clears it");
export const newTestbed = z.strictObject({ name, slug: slug.optional(), spec: testbedSpec.optional() });
export const testbedUpdate = z.strictObject({ name: name.optional(), slug: slug.optional(), spec: testbedSpec.optional() });
export const testbedView = branchView.extend({
  // Private: which hardware a project runs on is shown to members only.
  spec: z.string().nullable().optional(),
});
