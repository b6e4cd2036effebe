import { Command } from 'commander';
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

/** The whole command tree (tests walk it to reach every command). */
export function buildProgram(): Command {
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
  overrideExits(program);
  return program;
}

/** Commander's own errors (unknown option, missing argument) throw instead of exiting 1, which means "the job failed". */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}
