import { CommanderError } from 'commander';
import { describeError, exitCodeFor } from './exit';
import { buildProgram } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // Commander has printed the help or the error already; --help and --version are not failures.
      process.exitCode = err.exitCode === 0 ? 0 : exitCodeFor(err);
      return;
    }
    console.error(`benchline: ${describeError(err)}`);
    process.exitCode = exitCodeFor(err);
  });
