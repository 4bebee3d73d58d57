#!/usr/bin/env node
/**
 * The `metapixel` command (package.json `bin` -> dist/cli/main.js). One file per command
 * in ./commands, each exporting a factory registered below; commander gives every command
 * its --help.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { serveCommand } from './commands/serve';
import { encodeCommand } from './commands/encode';
import { importCommand } from './commands/import';
import { searchCommand } from './commands/search';
import { benchCommand } from './commands/bench';
import { migrateCommand } from './commands/migrate';

/** src/cli and dist/cli both sit two levels under the package root. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('metapixel')
    .description('Self-hosted visual product search speaking Google Cloud Vision v1 (REST and gRPC), and its binary codes.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpCommand(true)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nSettings come from the environment variables listed in README.md (e.g. METAPIXEL_CODE_BITS).');
  for (const command of [serveCommand(), encodeCommand(), importCommand(), searchCommand(), migrateCommand(), benchCommand()])
    program.addCommand(command.copyInheritedSettings(program));
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    // Whatever a command did not handle itself is a local problem (a bad setting, models
    // not found, an unreadable folder): exit status 1, as docs/cli.md lists.
    process.stderr.write(`metapixel: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  });
