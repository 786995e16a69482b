import { resolve } from 'node:path';

/** SPEC §1: --config PATH, else EPOCHGATE_CONFIG, else config/epochgate.yaml (relative to the cwd). */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.EPOCHGATE_CONFIG ?? 'config/epochgate.yaml');
}
