// `epochgate serve`: load config, start both listeners, handle SIGTERM (drain) and SIGHUP (reload).
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { startGateway, type RunningGateway } from '../app.js';
import { loadConfig } from '../config/load.js';
import { configPath } from './config-path.js';
import { installLastResort } from './last-resort.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

export const SERVE_HELP = `Usage: epochgate serve [--config PATH] [--listen-data HOST:PORT] [--listen-control HOST:PORT]

Runs the gateway: the data plane (agents → tools) and the control plane (sessions, approvals, admin).
  --config PATH              operator config (default: $EPOCHGATE_CONFIG or config/epochgate.yaml)
  --listen-data HOST:PORT    overrides listen.data (port 0 = chosen by the OS)
  --listen-control HOST:PORT overrides listen.control
Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the policy directory and the signing key file
(tokens.keys): the newest key there signs from then on, without a restart.
`;

export async function runServe(args: string[], io: CliIo): Promise<number> {
  const parsed = parseServeArgs(args, io);
  if (typeof parsed === 'number') return parsed;
  let config;
  try {
    config = loadConfig(configPath(parsed.config), {
      ...(parsed['listen-data'] ? { listenData: parsed['listen-data'] } : {}),
      ...(parsed['listen-control'] ? { listenControl: parsed['listen-control'] } : {}),
    });
  } catch (err) {
    io.stderr(`epochgate serve: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  // Operational log: JSON on stderr, written synchronously so the "listening" line is never lost.
  const stderr = pino.destination({ fd: 2, sync: true });
  const logger = pino({ level: config.log.level, base: { service: 'epochgate' } }, stderr);
  let gateway;
  try {
    gateway = await startGateway({ config, logger });
  } catch (err) {
    logger.fatal({ error: (err as Error).message }, 'start-up failed');
    // A refused start says why even with log.level silent (e.g. who holds the SQLite store, SPEC §14).
    if (config.log.level === 'silent') io.stderr(`epochgate serve: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  installLastResort(logger, gateway.metrics);
  // SPEC §1: the "listening" line is printed whatever the configured level (short of silent), because
  // supervisors and tests read the bound URLs from it when ports are 0.
  const announce = config.log.level === 'silent' ? logger : pino({ level: 'info', base: { service: 'epochgate' } }, stderr);
  return runUntilSignalled(gateway, logger, announce);
}

/** The parsed flags, or the exit code when there is nothing to run (usage error or --help). */
function parseServeArgs(args: string[], io: CliIo): { config?: string; 'listen-data'?: string; 'listen-control'?: string } | number {
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        'listen-data': { type: 'string' },
        'listen-control': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (!values.help) return values;
    io.stdout(SERVE_HELP);
    return EXIT_OK;
  } catch (err) {
    io.stderr(`epochgate serve: ${(err as Error).message}\n\n${SERVE_HELP}`);
    return EXIT_USAGE;
  }
}

/** SIGTERM/SIGINT drain and resolve the exit code; SIGHUP reloads policy and keys (SPEC §14, §17). */
function runUntilSignalled(running: RunningGateway, logger: Logger, announce: Logger): Promise<number> {
  return new Promise<number>((resolveExit) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      running.close().then(
        () => resolveExit(EXIT_OK),
        (err: unknown) => {
          logger.error({ error: (err as Error).message }, 'shutdown failed');
          resolveExit(EXIT_FAILED);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => reloadOnHangup(running, logger));
    // Announced only once the signal handlers are in place: a supervisor that signals as soon as it reads
    // the line must never meet the default action (terminate without draining).
    announce.info({ data_url: running.dataUrl, control_url: running.controlUrl, replica_id: running.replicaId }, 'listening');
  });
}

function reloadOnHangup(running: RunningGateway, logger: Logger): void {
  running.reloadPolicy().then(
    (ok) => logger.info({ ok }, 'policy reload on SIGHUP'),
    (err: unknown) => logger.error({ err }, 'policy reload on SIGHUP failed'),
  );
  // SPEC §17: a key added with `keys generate` starts signing now.
  running.reloadKeys().then(
    (ok) => logger.info({ ok }, 'signing key reload on SIGHUP'),
    (err: unknown) => logger.error({ err }, 'signing key reload on SIGHUP failed'),
  );
}
