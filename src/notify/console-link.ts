// Where the approver console is, for links in notifications (SPEC §18: `console.public_url`, by default the
// control plane's URL + /console). Kept in one function: the console's own config block is read here only.
import type { GatewayConfig } from '../config/types.js';

export interface ConsoleLink {
  /** The console's base URL, no trailing slash (links in Slack messages point here). */
  readonly baseUrl: string;
  /** Whether the console is served (only then do JSON payloads carry approval_url). */
  readonly enabled: boolean;
}

/** The console block as a configuration that has one describes it (absent: the console is not served). */
interface WithConsole {
  readonly console?: { readonly enabled?: boolean; readonly publicUrl?: string | null };
}

export function consoleLink(config: GatewayConfig, controlUrl: string): ConsoleLink {
  const block = (config as GatewayConfig & WithConsole).console;
  const configured = block?.publicUrl ?? null;
  const baseUrl = (configured ?? `${controlUrl}/console`).replace(/\/+$/, '');
  return { baseUrl, enabled: block?.enabled === true };
}
