import { Stack } from '../harness/stack';

describe('jobs that fail', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
    await stack.startRunner();
  });
  afterAll(() => stack?.stop());

  const scheduledActivities = async (workflowId: string) => {
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    return history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
  };

  it('a benchmark that exits non-zero ends failed with its exit code and stderr kept', async () => {
    const image = await stack.pushImage('exit3', { entrypoint: ['/bin/sh', '-c', 'echo partial; echo "boom: disk on fire" >&2; exit 3'] });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job).toMatchObject({ status: 'failed', exit_code: 3, error: 'the benchmark exited with code 3' });
    const stderr = await fetch(`${stack.apiUrl}/v0/projects/${stack.project.slug}/jobs/${job.uuid}/outputs/stderr`, {
      headers: { authorization: `Bearer ${stack.userToken}` },
    });
    expect(await stderr.text()).toBe('boom: disk on fire\n');
    // A benchmark that ran is not retried, and its output is not processed.
    expect(job.attempt).toBe(1);
    expect(await scheduledActivities(accepted.workflow_id)).not.toContain('processResults');
  });

  it('an image tag that does not exist fails in resolveImageDigest, before any runner time', async () => {
    const accepted = await stack.submit({ image: `${stack.registry}/${stack.id}/nothing-here:v404` });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('failed');
    expect(job.error).toBe(`image ${stack.registry}/${stack.id}/nothing-here:v404 not found in registry ${stack.registry}`);
    expect(job.runner).toBeNull();
    expect(job.claimed).toBeNull();
    expect(await scheduledActivities(accepted.workflow_id)).toEqual(['markJobFailed']);
    // Outsiders may see a public project's jobs, but not the error, which names the private repository.
    await stack.db('project').where({ id: stack.project.id }).update({ visibility: 'public' });
    const outsider = await stack.request<{ error: string }>('GET', `/v0/projects/${stack.project.slug}/jobs/${accepted.job}`, undefined, null);
    await stack.db('project').where({ id: stack.project.id }).update({ visibility: 'private' });
    expect(outsider.body.error).toBe("the job's error is shown to members of its project's organization");
    expect(JSON.stringify(outsider.body)).not.toContain('nothing-here');
  });

  it('a benchmark that outlives its timeout is killed and ends failed with a timeout error', async () => {
    const image = await stack.pushImage('sleeper', { entrypoint: ['/bin/sleep', '600'] });
    const accepted = await stack.submit({ image, timeout: 2 });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('timeout: the benchmark ran longer than its 2s limit and was killed');
    expect(job.exit_code).toBeNull();
    // Killed at the limit, not left to run: it finished within seconds of starting.
    expect(Date.parse(job.finished!) - Date.parse(job.started!)).toBeLessThan(30000);
  });

  it('output no adapter understands fails the job and shows the first lines', async () => {
    const image = await stack.pushImage('chatty', { entrypoint: ['/bin/sh', '-c', 'echo "hello, not json"'] });
    const accepted = await stack.submit({ image });
    const job = await stack.waitForJob(accepted.job);
    expect(job.status).toBe('failed');
    expect(job.error).toContain('no benchmark results');
    expect(job.error).toContain('hello, not json');
  });
});
