import { Command, CommanderError } from 'commander';
import { version } from '../package.json';
import { alertCommand } from './commands/alert';
import { jobCommand } from './commands/job';
import { pipelineCommand } from './commands/pipeline';
import { reportCommand } from './commands/report';
import { EXIT_HELP, runCommand } from './commands/run';
import { runnerCommand } from './commands/runner';
import { scheduleCommand } from './commands/schedule';
import { specCommand } from './commands/spec';
import { thresholdCommand } from './commands/threshold';
import { describeError, exitCodeFor } from './exit';

const program = new Command('benchline')
  .description('Continuous benchmarking on dedicated hardware')
  .version(version)
  .addHelpText('after', EXIT_HELP)
  .addCommand(runCommand())
  .addCommand(jobCommand())
  .addCommand(reportCommand())
  .addCommand(alertCommand())
  .addCommand(thresholdCommand())
  .addCommand(pipelineCommand())
  .addCommand(scheduleCommand())
  .addCommand(specCommand())
  .addCommand(runnerCommand());

/** Commander's own errors (unknown option, missing argument) throw instead of exiting 1, which means "the job failed". */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}
overrideExits(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed the help or the error already; --help and --version are not failures.
    process.exitCode = err.exitCode === 0 ? 0 : exitCodeFor(err);
    return;
  }
  console.error(`benchline: ${describeError(err)}`);
  process.exitCode = exitCodeFor(err);
});
