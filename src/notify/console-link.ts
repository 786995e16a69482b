// Where the approver console is, for links in notifications (SPEC §18: `console.public_url`, by default the
// control plane's URL + /console).
import type { GatewayConfig } from '../config/types.js';

export interface ConsoleLink {
  /** The console's base URL, no trailing slash (links in Slack messages point here). */
  readonly baseUrl: string;
  /** Whether the console is served (only then do JSON payloads carry approval_url). */
  readonly enabled: boolean;
}

export function consoleLink(config: GatewayConfig, controlUrl: string): ConsoleLink {
  const baseUrl = (config.console.publicUrl ?? `${controlUrl}/console`).replace(/\/+$/, '');
  return { baseUrl, enabled: config.console.enabled };
}
