// The validated, frozen operator configuration (SPEC §2). Paths are absolute; durations are ms.

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ToolConfig {
  readonly name: string;
  /** Base URL without a trailing slash; the normalised path below /tools/{name} is appended. */
  readonly upstream: URL;
  readonly protocol: 'http' | 'mcp';
  /** Injected on every forwarded request (lower-case names); values never logged or audited. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly forwardCookies: boolean;
  /** Upstream connection pool size of this tool. */
  readonly maxConnections: number;
  /** An open response stream with no bytes for this long is closed. */
  readonly streamIdleTimeoutMs: number;
}

/** One webhook of SPEC §18 "Notifications". */
export interface WebhookConfig {
  /** Absolute http(s) URL as configured (normalised by the URL parser). */
  readonly url: string;
  /** HMAC-SHA256 key of X-Epochgate-Signature; never logged, stored or sent. */
  readonly secret: string;
  readonly events: readonly NotificationEventName[];
  readonly format: 'json' | 'slack';
}

export type NotificationEventName =
  | 'approval.request' | 'approval.approve' | 'approval.deny' | 'approval.expire' | 'session.revoke' | 'ledger.unknown';

export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string; readonly synchronous: 'full' | 'normal'; readonly ledgerRetentionMs?: number }
  | {
      readonly kind: 'postgres';
      /** May carry a password: never logged (redactPgUrl). */
      readonly url: string;
      readonly poolSize: number;
      /** A replica whose heartbeat is older than this is gone (SPEC §17). */
      readonly replicaTimeoutMs?: number;
      readonly ledgerRetentionMs?: number;
    }
  | { readonly kind: 'memory'; readonly ledgerRetentionMs?: number };

export interface GatewayConfig {
  /** Absolute path of the config file ('' when built in code). */
  readonly file: string;
  readonly listen: { readonly data: ListenAddress; readonly control: ListenAddress };
  /** How agents reach the data plane; null = the data listener's bound URL. No trailing slash. */
  readonly publicUrl: string | null;
  readonly tokens: { readonly issuer: string; readonly audience: string; readonly keysPath: string };
  readonly store: StoreConfig;
  readonly policiesDir: string;
  readonly notifications: { readonly webhooks: readonly WebhookConfig[] };
  /** The approver web console; publicUrl null = the control listener's URL + /console. No trailing slash. */
  readonly console: { readonly enabled: boolean; readonly publicUrl: string | null };
  /** '-' = stdout, else an absolute file path appended to. */
  readonly audit: { readonly path: string };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly requestTimeoutMs: number;
    readonly shutdownGraceMs: number;
    /** A client must finish sending its headers within this. */
    readonly headersTimeoutMs: number;
    /** Per listener; further connections are refused at accept. */
    readonly maxConnections: number;
    /** Concurrent data-plane calls of one session (held calls and open streams count). */
    readonly maxInflightPerSession: number;
  };
  readonly tools: ReadonlyMap<string, ToolConfig>;
}
