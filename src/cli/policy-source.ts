// Where `policy …` commands find the policy directory (SPEC §15): [DIR] or --policies DIR, else the operator
// config's `policies` (--config, EPOCHGATE_CONFIG, or config/epochgate.yaml), else policies/.
// Tool names are checked whenever an operator config could be read.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { configPath } from './config-path.js';

export interface PolicySource {
  readonly dir: string;
  readonly toolNames?: ReadonlySet<string>;
  /** Each configured tool's protocol (MCP tools are decided as MCP: SPEC §3), when the config was read. */
  readonly protocols?: ReadonlyMap<string, 'http' | 'mcp'>;
  /** Why tool names were not checked, when they were not. */
  readonly note?: string;
}

export function policySource(dirArg: string | undefined, configFlag: string | undefined): PolicySource {
  const file = configPath(configFlag);
  const haveConfig = configFlag !== undefined || process.env.EPOCHGATE_CONFIG !== undefined || existsSync(file);
  if (haveConfig) {
    try {
      const config = loadConfig(file);
      const protocols = new Map([...config.tools].map(([name, tool]) => [name, tool.protocol] as const));
      return { dir: dirArg ? resolve(dirArg) : config.policiesDir, toolNames: new Set(config.tools.keys()), protocols };
    } catch (err) {
      if (!dirArg) throw err;
      return { dir: resolve(dirArg), note: `tool names were not checked: the operator config did not load (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return { dir: resolve(dirArg ?? 'policies'), note: 'tool names were not checked: no operator config found' };
}
