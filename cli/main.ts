import { Command } from 'commander';
import { version } from '../package.json';
import { ApiError } from './client';
import { pipelineCommand } from './commands/pipeline';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';

const program = new Command('benchline').description('Continuous benchmarking on dedicated hardware').version(version).addCommand(runCommand()).addCommand(pipelineCommand()).addCommand(scheduleCommand());

program.parseAsync(process.argv).catch((err) => {
  console.error(`benchline: ${err instanceof ApiError ? `${err.message} (HTTP ${err.status})` : (err as Error).message}`);
  process.exitCode = 2;
});
