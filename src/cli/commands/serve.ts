/** `metapixel serve`: the server, started exactly as `npm start` (src/app/run-server.ts). */
import { Command } from 'commander';
import { runServer, startFailed } from '../../app/run-server';
import { intOption } from '../options';

interface ServeOptions {
  port?: number;
  grpcPort?: number;
  host?: string;
  dataDir?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the server: REST and gRPC, with the embedded store unless MONGODB_URI is set. Stop it with Ctrl-C (graceful).')
    .addOption(intOption('--port <port>', 'REST port (PORT, default 8080)', 0, 65535))
    .addOption(intOption('--grpc-port <port>', 'gRPC port (GRPC_PORT, default 50051)', 0, 65535))
    .option('--host <address>', 'listen address for both (METAPIXEL_HOST, default 0.0.0.0)')
    .option('--data-dir <dir>', 'where the embedded store keeps metapixel.db (METAPIXEL_DATA_DIR, default ./data)')
    .addHelpText('after', '\nEvery other setting is an environment variable (README.md, "Configuration"); options win over them.')
    .action(async (opts: ServeOptions) => {
      const settings: Record<string, string> = {};
      if (opts.port !== undefined) settings.PORT = String(opts.port);
      if (opts.grpcPort !== undefined) settings.GRPC_PORT = String(opts.grpcPort);
      if (opts.host !== undefined) settings.METAPIXEL_HOST = opts.host;
      if (opts.dataDir !== undefined) settings.METAPIXEL_DATA_DIR = opts.dataDir;
      await runServer(settings).catch(startFailed);
    });
}
