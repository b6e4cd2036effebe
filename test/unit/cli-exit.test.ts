import { CommanderError } from 'commander';
import { ApiError, ApiUnreachableError } from '../../cli/client';
import { describeError, EXIT, exitCodeFor, interruptedExit } from '../../cli/exit';
import { CommandFailedError } from '../../cli/local';
import { UsageError } from '../../cli/thresholds';

describe('CLI exit codes', () => {
  it.each([
    [new ApiError(400, 'body.branch: bad'), EXIT.usage],
    [new ApiError(401, 'give a token'), EXIT.usage],
    [new ApiError(403, 'only server admins may do this'), EXIT.usage],
    [new ApiError(409, 'already canceled'), EXIT.usage],
    [new ApiError(404, 'job "x" not found'), EXIT.notFound],
    [new ApiError(500, 'internal'), EXIT.unavailable],
    [new ApiError(503, 'database unavailable'), EXIT.unavailable],
    [new ApiUnreachableError('http://api:8080', 'ECONNREFUSED'), EXIT.unavailable],
    [new UsageError('--iter expects a positive integer'), EXIT.usage],
    [new CommanderError(1, 'commander.missingArgument', "error: missing required argument 'job'"), EXIT.usage],
    [new CommandFailedError('the command exited with code 3'), EXIT.failed],
  ])('%s → %i', (err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  it('names the URL that could not be reached, and the status the API answered', () => {
    expect(describeError(new ApiUnreachableError('http://api:8080', 'ENOTFOUND'))).toBe('cannot reach the Benchline API at http://api:8080: ENOTFOUND');
    expect(describeError(new ApiError(409, 'job j is already canceled'))).toBe('job j is already canceled (HTTP 409)');
  });

  it('interrupted: 128 + the signal number', () => {
    expect(interruptedExit('SIGINT')).toBe(130);
    expect(interruptedExit('SIGTERM')).toBe(143);
  });
});
